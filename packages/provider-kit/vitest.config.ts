import { wsProject } from "../../vitest.shared.ts";

export default wsProject("provider-kit");
