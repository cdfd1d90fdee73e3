// The members' own strings beside a pay button (src/plans/kit/pay-facts.tsx), in the binary plan's member views and in
// their notifications and e-mail pages (src/user/Notifications.tsx, src/user/notes-link.tsx), a surface beside the
// dApp's (src/i18n/index.ts `addSurface`): English bundled with the pages that pay (the dashboard, the registration), the
// other languages each a chunk loaded when picked. Importing this module adds them.

import { addSurface } from "..";
import en from "./en.js";

addSurface(en, {
  es: () => import("./es.js"),
  pt: () => import("./pt.js"),
  hi: () => import("./hi.js"),
  id: () => import("./id.js"),
  ar: () => import("./ar.js"),
});
