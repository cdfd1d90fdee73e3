// The user dApp at `/`: the public plan and disclosure first, then wallet sign-in, registration through a
// referral link, and the dashboard.

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { publicCall } from "../lib/api";
import type { AssetDisclosure, AssetPlan } from "../lib/types";
import { AccountBar, LoadFailed, useSignedIn } from "../ui/account";
import { Loading, useLoad } from "../ui/bits";
import "../styles.css";
import { Dashboard } from "./Dashboard";
import { Disclosure } from "./Disclosure";
import { Register } from "./Register";

function App() {
  const params = new URLSearchParams(location.search);
  const ref = params.get("ref");
  const assetParam = params.get("asset");
  const publicData = useLoad(
    () =>
      Promise.all([
        publicCall<{ assets: AssetPlan[] }>("GET", "/v1/public/plan"),
        publicCall<{ assets: AssetDisclosure[] }>("GET", "/v1/public/disclosure"),
      ]),
    [],
  );
  const signed = useSignedIn();
  const [version, setVersion] = useState(0);
  const plans = publicData.data?.[0].assets ?? [];
  // Interactive: the disclosure is on screen and the wallet button works (read by the performance test).
  useEffect(() => {
    if (publicData.data) performance.mark("app-interactive");
  }, [publicData.data]);
  const assetId = assetParam && plans.some((p) => String(p.asset_id) === assetParam) ? Number(assetParam) : null;

  return (
    <>
      <header class="top">
        <h1>
          <a href="/">Referral rewards</a>
        </h1>
        <AccountBar purpose="join or see your dashboard" tron />
      </header>
      <main id="main">
        {publicData.loading && <Loading what="the plan and disclosure" />}
        {publicData.error && <LoadFailed error={publicData.error} what="the plan" retry={publicData.reload} />}
        {publicData.data && <Disclosure plans={plans} disclosures={publicData.data[1].assets} />}
        {publicData.data && ref && (
          <Register sponsor={ref} plans={plans} assetId={assetId} onDone={() => setVersion((v) => v + 1)} />
        )}
        {publicData.data && signed && <Dashboard plans={plans} connection={signed.connection} version={version} />}
      </main>
      <footer class="foot muted">
        Referral-reward schemes are regulated in many places. Amounts show exact base units on hover. <a href="/docs">API docs</a>
      </footer>
    </>
  );
}

render(<App />, document.getElementById("app")!);
