/**
 * Lesson 7, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 7` to see which tasks are done (`deno task check 7 --hint 2` for more help).
 *
 * @module
 */
// `cat`, `rand`, `tensor` and `zeros` are for the tasks (the linter notes them unused until then).
// deno-lint-ignore no-unused-vars
import { cat, rand, type Tensor, tensor, zeros } from "../../mod.ts";
import { Todo } from "../todo.ts";

/**
 * Task 7.1: the L2 penalty `(lambda / 2) * (sum of the squares of every weight of every
 * tensor)`, returned as a tensor (a scalar), so that `loss.add(penalty)` and `backward()` work.
 * Its gradient must be `lambda * w`: exactly what `optim.SGD(..., { weightDecay: lambda })` adds.
 */
export function l2Penalty(_parameters: Tensor[], _lambda: number): Tensor {
  throw new Todo("7.1", "the penalty grows with the square of each weight, and is a tensor");
}

/**
 * Task 7.2 (build it): inverted dropout, as `F.dropout(input, p, training)`. In training mode,
 * set each element to 0 with probability `p` (a new random choice on every call, from the
 * seeded generator: `rand(shape)` draws uniform numbers in [0, 1)) and scale the elements kept
 * so that the expected output equals the input. In evaluation mode, return the input unchanged.
 */
export function dropout(_input: Tensor, _p: number, _training: boolean): Tensor {
  throw new Todo("7.2", "a random mask of zeros and ones, and a scale for what is kept");
}

/**
 * Task 7.3: the share (between 0 and 1) of all the weights, counted over every tensor together,
 * whose absolute value is below `threshold`: how sparse an L1 penalty made the network.
 */
export function shareNearZero(_parameters: Tensor[], _threshold: number): Promise<number> {
  throw new Todo("7.3", "count the small weights of every tensor, then divide by all the weights");
}

/**
 * Task 7.4: the crop of `randomCrop(size, { padding })`, for a given corner. Pad the image
 * (shape `[C, H, W]`) with `padding` zeros on every side, making it `[C, H + 2p, W + 2p]`, then
 * cut the `H x W` window whose top-left corner is at row `top`, column `left` of the padded
 * image (0 <= top, left <= 2 * padding). The result is the image shifted, with zeros where it
 * left the frame.
 */
export function cropWithPadding(
  _image: Tensor,
  _padding: number,
  _top: number,
  _left: number,
): Tensor {
  throw new Todo("7.4", "make the bigger image first (zeros around it), then cut a window");
}
