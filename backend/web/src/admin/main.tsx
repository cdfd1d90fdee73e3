// The admin console at `/admin`: admin wallets only (the API enforces it; the page says so up front).

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { publicCall } from "../lib/api";
import type { PublicPlans } from "../lib/types";
import { AccountBar, LoadFailed, useSignedIn } from "../ui/account";
import { Loading, Notice, useLoad } from "../ui/bits";
import "../styles.css";
import type { Assets as AssetsTab } from "./Assets";
import { Audit } from "./Audit";
import { Monitoring } from "./Monitoring";
import { Payouts } from "./Payouts";
import { PlanVersions } from "./Plan";
import { Treasury } from "./Treasury";
import { UsersAdmin } from "./Users";
import { Weeks } from "./Weeks";

const TABS = [
  ["payouts", "Payouts"],
  ["treasury", "Treasury"],
  ["monitoring", "Monitoring"],
  ["users", "Users"],
  ["plan", "Plan"],
  ["weeks", "Weeks"],
  ["assets", "Assets"],
  ["audit", "Audit log"],
] as const;
type Tab = (typeof TABS)[number][0];

function currentTab(): Tab {
  const h = location.hash.slice(1);
  return (TABS.find(([id]) => id === h)?.[0] ?? "payouts") as Tab;
}

/** The Assets tab, loaded when first opened: creating an asset is rare, and the console's first load stays light. */
function useAssetsTab(open: boolean): typeof AssetsTab | null {
  const [tab, setTab] = useState<typeof AssetsTab | null>(null);
  useEffect(() => {
    if (open && !tab) void import("./Assets").then((m) => setTab(() => m.Assets));
  }, [open, tab]);
  return tab;
}

function App() {
  const signed = useSignedIn();
  const [tab, setTab] = useState<Tab>(currentTab());
  const Assets = useAssetsTab(tab === "assets");
  useEffect(() => {
    const f = () => setTab(currentTab());
    window.addEventListener("hashchange", f);
    return () => window.removeEventListener("hashchange", f);
  }, []);
  const plans = useLoad(() => publicCall<PublicPlans>("GET", "/v1/public/plan"), []);
  const assets = plans.data?.assets ?? [];
  useEffect(() => {
    if (plans.data) performance.mark("app-interactive");
  }, [plans.data]);
  return (
    <>
      <header class="top">
        <h1>
          <a href="/admin">Admin console</a>
        </h1>
        <AccountBar purpose="use the admin console" />
      </header>
      <main id="main">
        {!signed && <Notice kind="info">Connect an admin wallet and sign in.</Notice>}
        {signed && signed.session.role !== "admin" && (
          <Notice kind="error" testid="not-admin">
            This wallet is not an admin: the console and its API are refused. <a href="/">Back to the dApp</a>
          </Notice>
        )}
        {signed && signed.session.role === "admin" && (
          <>
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
            {plans.data && tab === "assets" && !Assets && <Loading what="the Assets tab" />}
            {plans.data && tab === "assets" && Assets && (
              <Assets assets={[...assets, ...(plans.data.generation ?? [])]} wallet={signed.session.address} created={plans.reload} />
            )}
            {plans.data && assets.length === 0 && (plans.data.generation ?? []).length === 0 && tab !== "assets" && tab !== "audit" && (
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
                {tab === "plan" && <PlanVersions assets={assets} generation={plans.data?.generation ?? []} />}
                {tab === "weeks" && <Weeks assets={plans.data?.generation ?? []} />}
              </>
            )}
          </>
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
