import { SERVERS, wsProject } from "../../vitest.shared.ts";

// These tests start moto and Swift themselves: without either on PATH the run stops first with one
// message saying which, and how to install it.
export default wsProject("test-servers", {}, { servers: [SERVERS.moto, SERVERS.swift] });
