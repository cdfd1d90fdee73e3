// A CSV file the API served, read by a real CSV reader (csv-parse): one object per data record, keyed by the header
// row. A record with more or fewer cells than the header is an error, not a guess (issue 66: a row whose first cell
// was empty lost a separator, and every value read under the wrong heading).
import { parse } from "csv-parse/sync";

export function readCsv(text) {
  return parse(text, { columns: true, skip_empty_lines: true, relax_column_count: false });
}
