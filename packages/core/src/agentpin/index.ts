export { AGENTPIN_FAILURE_REASONS, type AgentPinFailureReason } from './agentpin-failure.js';
export {
  parseDiscoveryDocument,
  type AgentIdentityDocument,
  type DiscoveryAgent,
  type DiscoveryDocument,
  type DiscoveryPublicKey,
} from './discovery-document.js';
export {
  DirectoryDiscovery,
  TrustBundleDiscovery,
  WellKnownDiscovery,
  type DiscoveryResolver,
  type WellKnownDiscoveryOptions,
} from './discovery-resolvers.js';
export { FilePinStore, InMemoryPinStore, type PinStore } from './pin-store.js';
export {
  AGENTPIN_CREDENTIAL_TYP,
  AgentPinVerifier,
  type AgentPinClaims,
  type AgentPinExpectation,
  type AgentPinVerifierOptions,
} from './agentpin-verifier.js';
export { AgentPinGate, type AgentPinGateOptions } from './agentpin-gate.js';
