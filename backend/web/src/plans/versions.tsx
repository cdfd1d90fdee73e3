// The frame every plan's versions view shares (console, Plan tab): the table of every version, and the admin's form
// for a new one from the latest; each plan gives its own table and form.

import type { ComponentType } from "preact";
import { type Asset, IfCan } from "../admin/common";
import type { PlanVersionView, VersionsProps } from ".";

export function VersionsFrame<V extends PlanVersionView>(
  props: VersionsProps & {
    Table: ComponentType<{ asset: Asset; versions: V[] }>;
    New: ComponentType<{ asset: Asset; latest: V; minFrom: number; onCreated: () => void; onStale: () => void }>;
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
