// The BCP 47 tag numbers, amounts and dates are formatted in (the chosen language, in the browser's own region when
// it names one): its own module, so that lib/format reads it without importing the catalogues.

let formatTag = "en-US";

export const formatLocale = (): string => formatTag;

export function setFormatLocale(tag: string): void {
  formatTag = tag;
}
