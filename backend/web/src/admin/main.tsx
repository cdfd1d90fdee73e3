// The admin console at `/admin`: staff wallets only (the API enforces it; the page says so up front). What the
// signed-in wallet may do comes from its staff roles (`GET /v1/admin/ping`): every role reads every tab, and each
// action is shown only to the role the API would let through (backend/STAFF.md §2).

import { renderLocalised } from "../i18n";
import { useEffect, useState } from "preact/hooks";
import { get, publicCall } from "../lib/api";
import type { PublicPlans } from "../lib/types";
import { AccountBar, LoadFailed, useSignedIn } from "../ui/account";
import { Loading, Notice, useLoad } from "../ui/bits";
import { LanguagePicker } from "../ui/language";
import "../styles.css";
import type { Assets as AssetsTab } from "./Assets";
import { Audit } from "./Audit";
import { StaffRoles, type StaffRole } from "./common";
import { Monitoring } from "./Monitoring";
import { Payouts } from "./Payouts";
import type { PlanVersions as PlanTab } from "./Plan";
import type { Periods as PeriodsTab } from "./Periods";
import type { Staff as StaffTab } from "./Staff";
import type { Approvals as ApprovalsTab } from "./Approvals";
import { Treasury } from "./Treasury";
import { UsersAdmin } from "./Users";
import { plannedAssets } from "../plans";

const TABS = [
  ["payouts", "Payouts"],
  ["approvals", "Approvals"],
  ["treasury", "Treasury"],
  ["monitoring", "Monitoring"],
  ["users", "Users"],
  ["plan", "Plan"],
  ["periods", "Periods"],
  ["assets", "Assets"],
  ["staff", "Staff"],
  ["audit", "Audit log"],
] as const;
type Tab = (typeof TABS)[number][0];

function currentTab(): Tab {
  const h = location.hash.slice(1);
  return (TABS.find(([id]) => id === h)?.[0] ?? "payouts") as Tab;
}

/**
 * A tab loaded when first opened (Approvals, Plan, Periods, Assets, Staff: not the first page most staff open), so that the console's first load stays light: its
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
  const Assets = useLazyTab<typeof AssetsTab>(tab === "assets", () => import("./Assets").then((m) => m.Assets));
  const Staff = useLazyTab<typeof StaffTab>(tab === "staff", () => import("./Staff").then((m) => m.Staff));
  const Approvals = useLazyTab<typeof ApprovalsTab>(tab === "approvals", () => import("./Approvals").then((m) => m.Approvals));
  const PlanVersions = useLazyTab<typeof PlanTab>(tab === "plan", () => import("./Plan").then((m) => m.PlanVersions));
  const Periods = useLazyTab<typeof PeriodsTab>(tab === "periods", () => import("./Periods").then((m) => m.Periods));
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
  useEffect(() => {
    if (plans.data) performance.mark("app-interactive");
  }, [plans.data]);
  return (
    <>
      <header class="top">
        <h1>
          <a href="/admin">Admin console</a>
        </h1>
        <LanguagePicker />
        <AccountBar purpose="use the admin console" />
      </header>
      <main id="main">
        {!signed && <Notice kind="info">Connect a staff wallet and sign in.</Notice>}
        {signed && signed.session.role !== "admin" && (
          <Notice kind="error" testid="not-admin">
            This wallet is not an admin: the console and its API are refused. <a href="/">Back to the dApp</a>
          </Notice>
        )}
        {signed && signed.session.role === "admin" && (
          <StaffRoles.Provider value={roles}>
            {me.error && <LoadFailed error={me.error} retry={me.reload} />}
            {me.data && (
              <p class="muted" data-testid="staff-roles-mine">
                Your roles: {roles.join(", ")}
                {roles.length === 1 && roles[0] === "viewer" ? " — you can read every page; nothing here moves anything." : "."}
              </p>
            )}
            <nav class="tabs" aria-label="Console sections">
              {TABS.map(([id, label]) => (
                <a key={id} href={`#${id}`} aria-current={tab === id ? "page" : undefined} data-testid={`tab-${id}`}>
                  {label}
                </a>
              ))}
            </nav>
            {plans.loading && <Loading what="assets" />}
            {plans.error && <LoadFailed error={plans.error} retry={plans.reload} />}
            {tab === "audit" && <Audit />}
            {tab === "staff" && !Staff && <Loading what="the Staff tab" />}
            {tab === "staff" && Staff && <Staff />}
            {tab === "approvals" && !Approvals && <Loading what="the Approvals tab" />}
            {tab === "approvals" && Approvals && <Approvals />}
            {plans.data && tab === "assets" && !Assets && <Loading what="the Assets tab" />}
            {plans.data && tab === "assets" && Assets && (
              <Assets assets={assets} wallet={signed.session.address} created={plans.reload} />
            )}
            {plans.data && assets.length === 0 && !["assets", "audit", "staff", "approvals"].includes(tab) && (
              <Notice kind="info" testid="create-first-asset">
                No asset yet. <a href="#assets">Create the first one</a> (chain, token, plan).
              </Notice>
            )}
            {assets.length > 0 && (
              <>
                {tab === "payouts" && <Payouts assets={assets} />}
                {tab === "treasury" && <Treasury assets={assets} />}
                {tab === "monitoring" && <Monitoring assets={assets} />}
                {tab === "users" && <UsersAdmin assets={assets} />}
                {tab === "plan" && !PlanVersions && <Loading what="the Plan tab" />}
                {tab === "plan" && PlanVersions && <PlanVersions assets={assets} />}
                {tab === "periods" && !Periods && <Loading what="the Periods tab" />}
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
