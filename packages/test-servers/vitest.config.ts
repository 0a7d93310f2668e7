import { wsProject } from "../../vitest.shared.ts";

export default wsProject("test-servers");
