// The admin console at `/admin`: staff wallets only (the API enforces it; the page says so up front). What the
// signed-in wallet may do comes from its staff roles (`GET /v1/admin/ping`): every role reads every tab, and each
// action is shown only to the role the API would let through (backend/STAFF.md §2).

import { renderLocalised, t, tx, type ConsoleKey } from "../i18n";
import "../i18n/console";
import { useEffect, useState } from "preact/hooks";
import { get, publicCall } from "../lib/api";
import type { PublicPlans } from "../lib/types";
import { AccountBar, LoadFailed, useSignedIn } from "../ui/account";
import { Loading, Notice, useLoad } from "../ui/bits";
import { LanguagePicker } from "../ui/language";
import "../styles.css";
import type { Assets as AssetsTab } from "./Assets";
import type { Audit as AuditTab } from "./Audit";
import type { Catalogue as CatalogueTab } from "./Catalogue";
import { StaffRoles, type StaffRole } from "../ui/console";
import type { Monitoring as MonitoringTab } from "./Monitoring";
import { Payouts } from "./Payouts";
import type { PlanVersions as PlanTab } from "./Plan";
import type { Periods as PeriodsTab } from "./Periods";
import type { Staff as StaffTab } from "./Staff";
import type { Approvals as ApprovalsTab } from "./Approvals";
import type { Treasury as TreasuryTab } from "./Treasury";
import type { UsersAdmin as UsersTab } from "./Users";
import type { Webhooks as WebhooksTab } from "./Webhooks";
import { plannedAssets } from "../plans";

const TABS = [
  ["payouts", "console.tab_payouts"],
  ["approvals", "console.tab_approvals"],
  ["treasury", "console.tab_treasury"],
  ["monitoring", "console.tab_monitoring"],
  ["users", "console.tab_users"],
  ["plan", "console.tab_plan"],
  ["periods", "console.tab_periods"],
  ["catalogue", "console.tab_catalogue"],
  ["assets", "console.tab_assets"],
  ["staff", "console.tab_staff"],
  ["audit", "console.tab_audit"],
  ["webhooks", "console.tab_webhooks"],
] as const satisfies readonly (readonly [string, ConsoleKey])[];
type Tab = (typeof TABS)[number][0];

function currentTab(): Tab {
  const h = location.hash.slice(1);
  return (TABS.find(([id]) => id === h)?.[0] ?? "payouts") as Tab;
}

/**
 * A tab loaded when first opened (Approvals, Plan, Periods, Catalogue, Assets, Staff, Webhooks: not the first page most staff open), so that the console's first load stays light: its
 * component once `open` has been true, `null` until then.
 */
function useLazyTab<T>(open: boolean, load: () => Promise<T>): T | null {
  const [tab, setTab] = useState<T | null>(null);
  useEffect(() => {
    if (open && !tab) void load().then((t) => setTab(() => t));
  }, [open, tab]);
  return tab;
}

function App() {
  const signed = useSignedIn();
  const [tab, setTab] = useState<Tab>(currentTab());
  const Treasury = useLazyTab<typeof TreasuryTab>(tab === "treasury", () => import("./Treasury").then((m) => m.Treasury));
  const Monitoring = useLazyTab<typeof MonitoringTab>(tab === "monitoring", () => import("./Monitoring").then((m) => m.Monitoring));
  const UsersAdmin = useLazyTab<typeof UsersTab>(tab === "users", () => import("./Users").then((m) => m.UsersAdmin));
  const Assets = useLazyTab<typeof AssetsTab>(tab === "assets", () => import("./Assets").then((m) => m.Assets));
  const Staff = useLazyTab<typeof StaffTab>(tab === "staff", () => import("./Staff").then((m) => m.Staff));
  const Approvals = useLazyTab<typeof ApprovalsTab>(tab === "approvals", () => import("./Approvals").then((m) => m.Approvals));
  const PlanVersions = useLazyTab<typeof PlanTab>(tab === "plan", () => import("./Plan").then((m) => m.PlanVersions));
  const Periods = useLazyTab<typeof PeriodsTab>(tab === "periods", () => import("./Periods").then((m) => m.Periods));
  const Webhooks = useLazyTab<typeof WebhooksTab>(tab === "webhooks", () => import("./Webhooks").then((m) => m.Webhooks));
  const Audit = useLazyTab<typeof AuditTab>(tab === "audit", () => import("./Audit").then((m) => m.Audit));
  const Catalogue = useLazyTab<typeof CatalogueTab>(tab === "catalogue", () => import("./Catalogue").then((m) => m.Catalogue));
  useEffect(() => {
    const f = () => setTab(currentTab());
    window.addEventListener("hashchange", f);
    return () => window.removeEventListener("hashchange", f);
  }, []);
  const plans = useLoad(() => publicCall<PublicPlans>("GET", "/v1/public/plan"), []);
  const isStaff = signed?.session.role === "admin";
  const me = useLoad(
    () => (isStaff ? get<{ admin: string; roles: StaffRole[] }>("/v1/admin/ping") : Promise.resolve(null)),
    [isStaff, signed?.session.address],
  );
  const roles = me.data?.roles ?? [];
  // Every asset, whatever its plan: each tab asks the asset's plan room for what only that plan has.
  const assets = plannedAssets(plans.data);
  // The sales plan's assets, which alone have a catalogue (the plans' registry has no sales room yet: the Catalogue tab
  // takes them from the plan list itself).
  const salesAssets = plans.data?.sales ?? [];
  useEffect(() => {
    if (plans.data) performance.mark("app-interactive");
  }, [plans.data]);
  return (
    <>
      <header class="top">
        <h1>
          <a href="/admin">{t("console.title")}</a>
        </h1>
        <LanguagePicker />
        <AccountBar purpose="use the admin console" />
      </header>
      <main id="main">
        {!signed && <Notice kind="info">{t("console.connect")}</Notice>}
        {signed && signed.session.role !== "admin" && (
          <Notice kind="error" testid="not-admin">
            {tx("console.not_admin", { back: <a href="/">{t("console.back_to_dapp")}</a> })}
          </Notice>
        )}
        {signed && signed.session.role === "admin" && (
          <StaffRoles.Provider value={roles}>
            {me.error && <LoadFailed error={me.error} retry={me.reload} />}
            {me.data && (
              <p class="muted" data-testid="staff-roles-mine">
                {t(roles.length === 1 && roles[0] === "viewer" ? "console.roles_viewer" : "console.roles", { roles: roles.join(", ") })}
              </p>
            )}
            <nav class="tabs" aria-label={t("console.sections")}>
              {TABS.map(([id, label]) => (
                <a key={id} href={`#${id}`} aria-current={tab === id ? "page" : undefined} data-testid={`tab-${id}`}>
                  {t(label)}
                </a>
              ))}
            </nav>
            {plans.loading && <Loading what={t("console.loading_assets")} />}
            {plans.error && <LoadFailed error={plans.error} retry={plans.reload} />}
            {tab === "audit" && !Audit && <Loading what={t("console.loading_tab", { tab: t("console.tab_audit") })} />}
            {tab === "audit" && Audit && <Audit />}
            {tab === "staff" && !Staff && <Loading what={t("console.loading_tab", { tab: t("console.tab_staff") })} />}
            {tab === "staff" && Staff && <Staff />}
            {tab === "approvals" && !Approvals && <Loading what={t("console.loading_tab", { tab: t("console.tab_approvals") })} />}
            {tab === "approvals" && Approvals && <Approvals />}
            {tab === "webhooks" && !Webhooks && <Loading what={t("console.loading_tab", { tab: t("console.tab_webhooks") })} />}
            {tab === "webhooks" && Webhooks && <Webhooks />}
            {plans.data && tab === "assets" && !Assets && <Loading what={t("console.loading_tab", { tab: t("console.tab_assets") })} />}
            {plans.data && tab === "assets" && Assets && (
              <Assets assets={assets} wallet={signed.session.address} created={plans.reload} />
            )}
            {plans.data && tab === "catalogue" && !Catalogue && <Loading what={t("console.loading_tab", { tab: t("console.tab_catalogue") })} />}
            {plans.data && tab === "catalogue" && Catalogue && <Catalogue assets={salesAssets} />}
            {plans.data && assets.length === 0 && !["assets", "audit", "staff", "approvals", "webhooks", "catalogue"].includes(tab) && (
              <Notice kind="info" testid="create-first-asset">
                {tx("console.no_asset", { create: <a href="#assets">{t("console.create_first")}</a> })}
              </Notice>
            )}
            {assets.length > 0 && (
              <>
                {tab === "payouts" && <Payouts assets={assets} />}
                {tab === "treasury" && (Treasury ? <Treasury assets={assets} /> : <Loading what="the Treasury tab" />)}
                {tab === "monitoring" && (Monitoring ? <Monitoring assets={assets} /> : <Loading what="the Monitoring tab" />)}
                {tab === "users" && (UsersAdmin ? <UsersAdmin assets={assets} /> : <Loading what="the Users tab" />)}
                {tab === "plan" && !PlanVersions && <Loading what={t("console.loading_tab", { tab: t("console.tab_plan") })} />}
                {tab === "plan" && PlanVersions && <PlanVersions assets={assets} />}
                {tab === "periods" && !Periods && <Loading what={t("console.loading_tab", { tab: t("console.tab_periods") })} />}
                {tab === "periods" && Periods && <Periods assets={assets} />}
              </>
            )}
          </StaffRoles.Provider>
        )}
      </main>
    </>
  );
}

renderLocalised(() => <App />, document.getElementById("app")!);
