// Who a referral link names, read before paying (issue 47, finding 5: "the sponsor is a bare address"): a member of
// the asset since when, with how many direct referrals — or not a member (or frozen), when a registration naming them
// would only be refused, so the page says so and offers no payment.

import "../i18n/member";
import { t } from "../i18n";
import { publicCall } from "../lib/api";
import { dateOnly, num } from "../lib/format";
import type { PublicSponsor } from "../lib/types";
import { Notice, useLoad } from "../ui/bits";

/** The sponsor's standing in the asset, read when the link names a valid address and an asset is chosen. */
export function useSponsor(assetId: number | undefined, address: string, valid: boolean) {
  return useLoad(
    () =>
      assetId !== undefined && valid
        ? publicCall<PublicSponsor>("GET", `/v1/public/sponsor?asset_id=${assetId}&address=${encodeURIComponent(address)}`)
        : Promise.resolve(null),
    [assetId, address, valid],
  );
}

/** Why this link cannot register anyone now (the sponsor is not a member, or frozen); null when it can. */
export function SponsorRefusal(props: { s: PublicSponsor; symbol: string }) {
  const s = props.s;
  if (s.registered && !s.frozen) return null;
  return (
    <Notice kind="error" testid={s.registered ? "sponsor-frozen" : "sponsor-unknown"}>
      {t(s.registered ? "sp.frozen" : "sp.not_member", { symbol: props.symbol })}
    </Notice>
  );
}

/** After the sponsor's address, on the same line: their number, since when, their direct referrals. */
export function SponsorFacts(props: { s: PublicSponsor; symbol: string }) {
  const s = props.s;
  if (!s.registered || s.frozen) return null;
  const referrals = s.direct_referrals ?? 0;
  const since = s.registered_at ? dateOnly(s.registered_at) : null;
  return (
    <span class="muted" data-testid="sponsor-facts">
      {" · "}
      {since
        ? t("sp.member_since", { symbol: props.symbol, n: num(s.user_no ?? 0), when: since, count: referrals, referrals: num(referrals) })
        : t("sp.member_genesis", { symbol: props.symbol, count: referrals, referrals: num(referrals) })}
    </span>
  );
}
