// Inline SVG charts (no chart library, nothing from another origin). Values are plotted as numbers; the exact
// figures are in the tables beside them.

import { t } from "../i18n";
import { formatLocale } from "../i18n/tag";

export interface Series {
  name: string;
  /** `c-chain`, `c-ledger` or `c-owed` (colours in styles.css, light and dark). */
  cls: string;
  values: number[];
  dashed?: boolean;
}

const W = 480;
const H = 200;
const PAD = { l: 56, r: 8, t: 8, b: 24 };

function ticks(max: number): number[] {
  if (max <= 0) return [0];
  const step = 10 ** Math.floor(Math.log10(max));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => max / s <= 5) ?? step * 10;
  const out = [];
  for (let v = 0; ; v += nice) {
    out.push(v);
    if (v >= max) return out;
  }
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000
    ? v.toLocaleString(formatLocale(), { maximumFractionDigits: 0 })
    : (Math.round(v * 1000) / 1000).toLocaleString(formatLocale(), { maximumFractionDigits: 3, useGrouping: false });
}

export function LineChart(props: { series: Series[]; labels: string[]; unit: string }) {
  const n = props.labels.length;
  const max = Math.max(0, ...props.series.flatMap((s) => s.values));
  const ys = ticks(max);
  const top = ys[ys.length - 1] || 1;
  const x = (i: number) => PAD.l + (n <= 1 ? (W - PAD.l - PAD.r) / 2 : (i * (W - PAD.l - PAD.r)) / (n - 1));
  const y = (v: number) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  const summary = props.series.map((s) => `${s.name}: ${fmt(s.values[s.values.length - 1] ?? 0)} ${props.unit}`).join("; ");
  return (
    <>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t("charts.latest", { summary })}>
        {ys.map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} stroke="currentColor" stroke-opacity="0.15" />
            <text x={PAD.l - 4} y={y(v) + 4} text-anchor="end" font-size="10" fill="currentColor">
              {fmt(v)}
            </text>
          </g>
        ))}
        {props.labels.map((l, i) =>
          n <= 8 || i % Math.ceil(n / 8) === 0 ? (
            <text key={l} x={x(i)} y={H - 6} text-anchor="middle" font-size="10" fill="currentColor">
              {l}
            </text>
          ) : null,
        )}
        {props.series.map((s) => (
          <g key={s.name}>
            <polyline
              fill="none"
              class={s.cls}
              stroke-width="2"
              stroke-dasharray={s.dashed ? "5 4" : undefined}
              points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}
            />
            {s.values.map((v, i) => (
              <circle key={i} class={s.cls} cx={x(i)} cy={y(v)} r="2.5">
                <title>
                  {s.name}, {props.labels[i]}: {fmt(v)} {props.unit}
                </title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <div class="legend">
        {props.series.map((s) => (
          <span key={s.name}>
            <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">
              <rect class={s.cls} width="10" height="10" />
            </svg>
            {s.name}
          </span>
        ))}
      </div>
    </>
  );
}

export function BarChart(props: { bars: { label: string; value: number; text: string }[] }) {
  const max = Math.max(0, ...props.bars.map((b) => b.value));
  const ys = ticks(max);
  const top = ys[ys.length - 1] || 1;
  const n = Math.max(1, props.bars.length);
  const slot = (W - PAD.l - PAD.r) / n;
  const y = (v: number) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.bars.map((b) => `${b.label}: ${b.text}`).join("; ")}>
      {ys.map((v) => (
        <g key={v}>
          <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} stroke="currentColor" stroke-opacity="0.15" />
          <text x={PAD.l - 4} y={y(v) + 4} text-anchor="end" font-size="10" fill="currentColor">
            {fmt(v)}
          </text>
        </g>
      ))}
      {props.bars.map((b, i) => (
        <g key={b.label}>
          <rect x={PAD.l + i * slot + slot * 0.2} width={slot * 0.6} y={y(b.value)} height={H - PAD.b - y(b.value)} class="c-owed">
            <title>{b.text}</title>
          </rect>
          <text x={PAD.l + i * slot + slot / 2} y={H - 6} text-anchor="middle" font-size="11" fill="currentColor">
            {b.label}
          </text>
        </g>
      ))}
    </svg>
  );
}
