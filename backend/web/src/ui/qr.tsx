// A QR code drawn here as inline SVG (uqr encodes it; nothing is fetched): the WalletConnect pairing's `wc:` URI and
// a member's referral link. Loaded with the views that show one, never with a page's first load.

import { encode } from "uqr";

/** A QR code of `text` as one SVG path (dark modules on white, also in dark mode: scanners need the contrast). */
export function QrCode(props: { text: string; label: string; class?: string; testid?: string }) {
  const qr = encode(props.text, { ecc: "M", border: 2 });
  let d = "";
  qr.data.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) {
      if (!row[x]) continue;
      let run = 1;
      while (row[x + run]) run++;
      d += `M${x} ${y}h${run}v1h-${run}z`;
      x += run - 1;
    }
  });
  return (
    <svg
      class={props.class ?? "qr"}
      viewBox={`0 0 ${qr.size} ${qr.size}`}
      role="img"
      aria-label={props.label}
      data-testid={props.testid ?? "qr"}
      data-text={props.text}
      shape-rendering="crispEdges"
    >
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
