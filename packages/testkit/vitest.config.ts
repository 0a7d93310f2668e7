import { wsProject } from "../../vitest.shared.ts";

export default wsProject("testkit");
