import type { ConformanceCase } from "../case.js";
import { concurrencyCases, consistencyCases, idempotencyCases } from "./behaviour.js";
import { deletingCases } from "./deleting.js";
import { eagerCases } from "./eager.js";
import { errorCases } from "./errors.js";
import { fidelityCases } from "./fidelity.js";
import { listingCases } from "./listing.js";
import { nameCases } from "./names.js";
import { optionCases } from "./options.js";
import { rangeCases } from "./ranges.js";
import { readingCases } from "./reading.js";
import { shapeCases } from "./shape.js";
import { streamingCases } from "./streaming.js";
import { writingCases } from "./writing.js";

/** Every case, in report order. Ids are stable: reports and known failures refer to them. */
export const CASES: readonly ConformanceCase[] = Object.freeze([
  ...shapeCases,
  ...listingCases,
  ...readingCases,
  ...rangeCases,
  ...streamingCases,
  ...writingCases,
  ...fidelityCases,
  ...deletingCases,
  ...nameCases,
  ...errorCases,
  ...idempotencyCases,
  ...concurrencyCases,
  ...consistencyCases,
  ...optionCases,
  ...eagerCases,
]);
