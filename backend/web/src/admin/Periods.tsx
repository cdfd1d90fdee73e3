// Periods: the closes of every plan that has periods (its room's `periods`: the generation plan's weeks), one
// section per plan; a plan without periods (the auto-pool plan) has none to show.

import { t } from "../i18n";
import { Loading, Notice } from "../ui/bits";
import { type PlanRoom, roomsOf, useLazyView } from "../plans";
import type { PlannedAsset } from "../plans/kit/assets";

export function Periods(props: { assets: PlannedAsset[] }) {
  const rooms = roomsOf(props.assets).filter((r) => r.periods);
  if (rooms.length === 0) return <Notice kind="info" testid="periods-none">{t("periods.none")}</Notice>;
  return (
    <>
      {rooms.map((r) => (
        <RoomPeriods key={r.kind} room={r} assets={props.assets.filter((a) => a.plan === r.kind)} />
      ))}
    </>
  );
}

function RoomPeriods(props: { room: PlanRoom; assets: PlannedAsset[] }) {
  const View = useLazyView(props.room.periods?.view);
  if (!View) return <Loading what={t("periods.loading", { plan: props.room.name() })} />;
  return <View assets={props.assets} />;
}
