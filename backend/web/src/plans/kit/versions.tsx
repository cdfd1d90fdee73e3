// A plan's versions view (console, Plan tab): what the plans' registry gives it, and the frame every plan's view
// shares — the table of every version, and the admin's form for a new one from the latest; each plan gives its own
// table and form.

import type { ComponentType } from "preact";
import type { Schema } from "../../generated/api";
import { IfCan } from "../../ui/console";
import type { AssetBase } from "./assets";

/** A plan version as `GET /v1/admin/plan` lists it; `params` is the plan's own JSON (its room reads it). */
export type PlanVersionView = Schema<"PlanVersionView"> & { params: unknown };

/** What the console's Plan tab gives a plan's versions view. */
export interface VersionsProps {
  asset: AssetBase;
  /** Oldest first. */
  versions: PlanVersionView[];
  /** The API's `first_allowed_block` for a new version. */
  minFrom: number;
  onCreated: () => void;
  /** The API refused the block as already passed: read the first allowed block again. */
  onStale: () => void;
}

export function VersionsFrame<V extends PlanVersionView>(
  props: VersionsProps & {
    Table: ComponentType<{ asset: AssetBase; versions: V[] }>;
    New: ComponentType<{ asset: AssetBase; latest: V; minFrom: number; onCreated: () => void; onStale: () => void }>;
  },
) {
  const versions = props.versions as V[];
  const { Table, New } = props;
  return (
    <>
      <div class="table-wrap panel" tabIndex={0}>
        <Table asset={props.asset} versions={versions} />
      </div>
      {versions.length > 0 && (
        <IfCan need="admin">
          <New
            key={`${props.asset.asset_id}-${versions.length}`}
            asset={props.asset}
            latest={versions[versions.length - 1]}
            minFrom={props.minFrom}
            onCreated={props.onCreated}
            onStale={props.onStale}
          />
        </IfCan>
      )}
    </>
  );
}
