export {
  type ContractCase,
  describeExecutorContract,
  type ExecutorContractOptions,
  type ImportFixture,
} from './contract.js'
export { UnscriptedCallError } from '../errors.js'
export {
  type ScriptedCall,
  ScriptedModel,
  type ScriptedModelOptions,
  type ScriptedOutput,
  type ScriptedResponder,
} from './scripted-model.js'
