export { type FaultLayer, type FaultRule, faultLayer, type InjectedError } from "./fault-layer.js";
