// What the pages that propose or show an authorisation share (backend/STAFF.md §3): proposing one signed in the staff
// wallet, a stage in words, and what a proposal still misses. Apart from the Approvals tab so that the payouts page,
// the console's first, does not load that tab's code (the console's first page weight, tests/05).

import { post } from "../lib/api";
import type { useSignedIn } from "../ui/account";
import { type ConsoleKey, t } from "../i18n";
import "../i18n/console";
import { formatLocale } from "../i18n/tag";
import type { Schema } from "../generated/api";

export type AuthorisationView = Schema<"AuthorisationView">;

/**
 * Proposes an outflow (`body`: `POST /v1/admin/authorisations`'s) and signs the proposal in the signed-in staff wallet;
 * a proposal retried after its signature went in is answered as it stands (the API answers the open one again).
 */
export async function proposeSigned(signed: ReturnType<typeof useSignedIn>, body: object): Promise<AuthorisationView> {
  const proposal = await post<AuthorisationView>("/v1/admin/authorisations", body);
  if (!signed) throw new Error(t("approvals.sign_in_first"));
  if (proposal.signatures.some((s) => s.action === "propose")) return proposal;
  const signature = await signed.connection.signTypedData((proposal.typed_data as Record<string, object>).propose);
  return post<AuthorisationView>(`/v1/admin/authorisations/${proposal.id}/signatures`, { action: "propose", signature });
}

/** Each stage in words, for the badge and its title. */
export const STAGES = ["proposed", "approved", "signed", "sent", "executed", "rejected", "expired", "failed", "cancelled"];
/** A stage's word and its explanation (the badge and its title); the API's word otherwise. */
export const stageWord = (s: string) => (STAGES.includes(s) ? t(`approvals.stage_${s}` as ConsoleKey) : s);

/**
 * What a proposal still misses, in the reader's language (the API's `missing` is English words; its
 * `missing_proposer` and `missing_approvals` say the same as data), joined as the language lists things; "" when
 * nothing is missing.
 */
export function missingWords(a: Pick<AuthorisationView, "missing_proposer" | "missing_approvals">): string {
  const parts: string[] = [];
  if (a.missing_proposer) parts.push(t("approvals.missing_proposer", { wallet: a.missing_proposer }));
  if (a.missing_approvals > 0) parts.push(t("approvals.missing_approvals", { count: a.missing_approvals }));
  return new Intl.ListFormat(formatLocale(), { type: "conjunction" }).format(parts);
}
