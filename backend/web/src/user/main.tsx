// The user dApp at `/`. What comes first depends on who opens it:
// - a referral link (`/?ref=…&asset=N`): that asset's odds and rules, then the registration and its pay button;
//   the other assets' cards follow, folded;
// - a signed-in registered user: the dashboard, with the whole disclosure folded below it (one tap away);
// - anyone else: the whole disclosure first (PLAN.md §9: the odds before anyone pays).
// The header's navigation leads to the public "Proof of solvency" page (`/#solvency`, src/user/Solvency.tsx, loaded
// on demand), and back; a signed-in member's also to their notifications (`/#notifications`, with the unread count),
// which load on demand with the e-mail links' pages (`/#email-confirm=…`, `/#email-unsubscribe=…`:
// src/user/Notifications.tsx).

import { type VNode } from "preact";
import { renderLocalised, t, tx } from "../i18n";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { publicCall } from "../lib/api";
import type { Profile, PublicDisclosures, PublicOperator, PublicPlans } from "../lib/types";
import { AccountBar, LoadFailed, useSignedIn } from "../ui/account";
import { Loading, useLoad } from "../ui/bits";
import { LanguagePicker } from "../ui/language";
import "../styles.css";
import type { Dashboard as DashboardView } from "./Dashboard";
import { Disclosure, OtherPlans } from "./Disclosure";
import { OpenInWallet } from "./openin";
import type { Register as RegisterView } from "./Register";
import { LazySolvencySection } from "./solvency-lazy";
import { plannedAssets, useLazyView } from "../plans";
import type { PlannedAsset } from "../plans/kit/assets";

/** The dashboard, loaded once a wallet signs in (a visitor's first load carries only the plan and its odds). */
const loadDashboard = () => import("./Dashboard").then((m) => m.Dashboard);
/** The registration and its pay flow, loaded on a referral link only. */
const loadRegister = () => import("./Register").then((m) => m.Register);

/** The header's link to the notifications with the unread count, loaded once a wallet signs in. */
const loadNotesLink = () => import("./notes-link").then((m) => m.NotesLink);
/** The notifications and the e-mail links' pages, loaded (through the same small chunk) when one of them is opened. */
const loadNotes = () => import("./notes-link").then((m) => m.NotesView);

/** The page shown: the plan (and dashboard), the proof of solvency (`#solvency`) or the notifications' pages. */
const viewOf = () => {
  const h = location.hash;
  return h === "#solvency" ? "solvency" : /^#(notifications|email-)/.test(h) ? "notes" : "main";
};

function App() {
  const params = new URLSearchParams(location.search);
  const ref = params.get("ref");
  const assetParam = params.get("asset");
  const publicData = useLoad(
    () =>
      Promise.all([
        publicCall<PublicPlans>("GET", "/v1/public/plan"),
        publicCall<PublicDisclosures>("GET", "/v1/public/disclosure"),
      ]),
    [],
  );
  const signed = useSignedIn();
  const [view, setView] = useState(viewOf);
  useEffect(() => {
    const follow = () => setView(viewOf());
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  const [version, setVersion] = useState(0);
  // The asset a referral link pays in: the link's, else the one picked in the registration (first by default).
  const [picked, setPicked] = useState<number | null>(null);
  // Whose profile the dashboard last loaded, and whether it is registered in any asset.
  const [profile, setProfile] = useState<{ address: string; registered: boolean; assets: number[] } | null>(null);
  const assets = useMemo(() => plannedAssets(publicData.data?.[0]), [publicData.data]);
  const disclosures = publicData.data?.[1].assets ?? [];
  // Interactive: the disclosure is on screen and the wallet button works (read by the performance test).
  useEffect(() => {
    if (publicData.data) performance.mark("app-interactive");
  }, [publicData.data]);
  const isAsset = (id: string) => assets.some((p) => String(p.asset_id) === id);
  const assetId = assetParam && isAsset(assetParam) ? Number(assetParam) : null;
  const chosen = assetId ?? picked ?? assets[0]?.asset_id;
  // Until its profile says otherwise, a signed-in wallet is taken to be registered (no jump for most of them).
  const known = signed && profile?.address.toLowerCase() === signed.session.address.toLowerCase() ? profile : null;
  const dashboardFirst = !!signed && !ref && (known?.registered ?? true);
  const fold = useRef<HTMLDetailsElement>(null);
  const onProfile = (p: Profile) => {
    setProfile({ address: p.address, registered: p.assets.length > 0, assets: p.assets.map((a) => a.asset_id) });
  };

  const Dashboard = useLazyView<Parameters<typeof DashboardView>[0]>(signed ? loadDashboard : undefined);
  const Register = useLazyView<Parameters<typeof RegisterView>[0]>(ref ? loadRegister : undefined);
  const Notes = useLazyView<{ assets: PlannedAsset[] }>(view === "notes" ? loadNotes : undefined);
  const NotesLink = useLazyView<{ current: boolean }>(signed ? loadNotesLink : undefined);
  let content: VNode[] = [];
  if (publicData.data) {
    const dashboard =
      signed &&
      (Dashboard ? (
      <Dashboard
        key="dashboard"
        assets={assets}
        connection={signed.connection}
        joining={!!ref}
        version={version}
        onProfile={onProfile}
        planLink={
          dashboardFirst && (
            <a href="#plan" class="plan-link" data-testid="plan-link" onClick={() => fold.current && (fold.current.open = true)}>
              {t("m.plan_link")}
            </a>
          )
        }
      />
      ) : (
        <Loading key="dashboard" what={t("m.your_dashboard")} />
      ));
    if (ref) {
      content = [
        <Disclosure key="disclosure" assets={assets} disclosures={disclosures} only={chosen} />,
        Register ? (
        <Register
          key="register"
          sponsor={ref}
          assets={assets}
          assetId={assetId}
          selected={chosen}
          onSelect={setPicked}
          onDone={() => setVersion((v) => v + 1)}
        />
        ) : (
          <Loading key="register" what={t("m.registration")} />
        ),
        <OtherPlans key="others" assets={assets} disclosures={disclosures} except={chosen} />,
      ];
      if (dashboard) content.push(dashboard);
    } else if (dashboardFirst && dashboard) {
      content = [
        dashboard,
        <details key="disclosure" class="fold panel" id="plan" ref={fold} data-testid="disclosure-fold">
          <summary>
            <h2 class="fold-title">{t("m.fold")}</h2>
          </summary>
          <Disclosure assets={assets} disclosures={disclosures} />
        </details>,
      ];
    } else {
      content = [<Disclosure key="disclosure" assets={assets} disclosures={disclosures} />];
      if (dashboard) content.push(dashboard);
    }
  }

  return (
    <>
      <header class="top">
        <h1>
          <a href="/">{t("m.title")}</a>
        </h1>
        <nav class="site-nav" aria-label={t("m.pages")}>
          <a href="#main" aria-current={view === "main" ? "page" : undefined} data-testid="nav-main">
            {signed ? t("m.nav_dash") : t("m.nav_plan")}
          </a>
          <a href="#solvency" aria-current={view === "solvency" ? "page" : undefined} data-testid="nav-solvency">
            {t("m.nav_solvency")}
          </a>
          {signed && NotesLink && <NotesLink key={signed.session.address} current={view === "notes"} />}
        </nav>
        <LanguagePicker />
        <AccountBar
          purpose="join or see your dashboard"
          tron
          noWallet={(walletConnect) => <OpenInWallet purpose="join or see your dashboard" walletConnect={walletConnect} />}
        />
      </header>
      <main id="main">
        {view === "solvency" ? (
          <LazySolvencySection />
        ) : view === "notes" ? (
          Notes && <Notes assets={assets} />
        ) : (
          <>
            {publicData.loading && <Loading what="the plan and disclosure" />}
            {publicData.error && <LoadFailed error={publicData.error} what="the plan" retry={publicData.reload} />}
            {content}
          </>
        )}
      </main>
      <footer class="foot muted">
        <OperatorLine />
        {tx("m.foot", { docs: <a href="/docs">{t("m.docs")}</a> })}
      </footer>
    </>
  );
}

/** Who runs the service, on every page before anyone pays (finding 5): the operator's `[operator]`, or that there is none. */
function OperatorLine() {
  const o = useLoad(() => publicCall<PublicOperator>("GET", "/v1/public/operator"), []);
  if (!o.data) return null;
  const op = o.data.operator;
  if (!op) return <p data-testid="foot-operator-missing">{t("m.no_operator")}</p>;
  return (
    <p data-testid="foot-operator">
      {tx("m.operated_by", {
        legal: <strong>{op.legal_name}</strong>,
        name: op.name,
        jurisdiction: op.jurisdiction,
        terms: <a href={op.terms_url} data-testid="foot-terms">{t("m.terms")}</a>,
        contact: <a href={`mailto:${op.contact_email}`}>{op.contact_email}</a>,
      })}
    </p>
  );
}

renderLocalised(() => <App />, document.getElementById("app")!);
