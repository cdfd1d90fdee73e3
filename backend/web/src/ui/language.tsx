// The language picker in every page's header: a labelled <select> (the keyboard's own control), each language named
// in itself and marked with its language, so that a reader finds theirs whatever the page is in now.

import { LOCALES, type LocaleCode, setLocale, t, useLocale } from "../i18n";

export function LanguagePicker() {
  const current = useLocale();
  return (
    <label class="language" data-testid="language">
      <span class="sr-only">{t("language.label")}</span>
      <select
        value={current}
        onChange={(e) => void setLocale((e.currentTarget as HTMLSelectElement).value as LocaleCode).catch(() => undefined)}
        data-testid="language-picker"
      >
        {LOCALES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code} dir={l.dir}>
            {l.name}
          </option>
        ))}
      </select>
    </label>
  );
}
