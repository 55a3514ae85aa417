// Package policy runs a multi-exit Vision-Language-Action model with
// dynamic early exit, the method of DeeR-VLA (Yue et al., NeurIPS 2024;
// see docs/deer-method.md and docs/model-contract.md).
// It owns the method and imports no ROS and no cgo: stages run through a
// [Backend] (policy/ort for ONNX Runtime, policy/policytest for tests).
//
// # One control step
//
// [Engine.Step] takes an [Observation] (camera images and the instruction)
// and does, in order:
//
//  1. Preprocess each camera image into its encoder tensor (resize, channel
//     order, mean/std). If the instruction changed, tokenise it once and
//     start a new episode: the recurrent state is zeroed.
//  2. Run the encoder (vision, text and the first decoder layer). It always
//     runs in full.
//  3. Evaluate the shared head on the first layer's feature with the
//     committed recurrent state: the reference candidate a_0.
//  4. For exits i = 1..n, n the deepest exit the budgets allow: run block i
//     (continuing from block i-1, so no work repeats), evaluate the head on
//     exit i's feature with the committed state (not committing it), and
//     compare with a_(i-1). Stop when the distance is at most exit i's
//     threshold, or at exit n.
//  5. Commit the chosen exit's new recurrent state and return the action
//     with a [StepResult]: exit, GFLOPs, per-stage times, every distance.
//
// A step that fails (bad input, NaN or Inf in any head output) returns a
// [StepError] and commits nothing. With HoldSteps k, the k steps after a
// decision run straight to the decided exit.
//
// # Budgets
//
// [Settings] carry three budgets ([Budget]) and may change between any two
// steps with [Engine.SetSettings], which validates them as a whole (an
// invalid change is refused and the old settings stay). Peak GFLOPs and
// memory pick the deepest allowed exit; deeper blocks' sessions are freed
// and are loaded again in the background when the cap rises. An average
// GFLOPs budget is turned into thresholds from a [Calibration]: the share of
// steps exiting at exit i is taken as proportional to q^i, q is solved by
// bisection so that the expected cost meets the budget, and thresholds are
// set exit by exit by the greedy quantile rule. With
// [Settings.BudgetWindow], the realised average over the last steps
// corrects the budget the thresholds are solved for, so that the budget
// holds on the engine's own steps, not only on the calibration's.
// Explicit thresholds override the solver. The edge cases are documented on [Budget].
//
// # Concurrency
//
// Step, Reset and Close run on one goroutine (the control loop);
// SetSettings and Plan may be called from any other. The engine does not
// log: callers publish or print the StepResult.
package policy
