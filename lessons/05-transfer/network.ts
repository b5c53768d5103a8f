/**
 * The network of lesson 5, used by the lesson and by `pretrain.ts`, which trains the weights the
 * lesson starts from: a backbone of convolutions (`features`) and a linear `head`.
 *
 * The names of its parameters are PyTorch's (`features.0.weight`, `head.bias`, ...), so its state
 * dict loads into the same network written in PyTorch.
 *
 * @module
 */
import { nn, type Tensor } from "../../mod.ts";

/**
 * Two blocks of a 3x3 convolution, ReLU and 2x2 max pooling (16 then 32 channels) as `features`,
 * flattened to 32 * 7 * 7 = 1568 numbers per 28x28 image, and a linear `head` to `classes`
 * logits.
 */
export class SmallCnn extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(16, 32, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
  );
  head: nn.Linear;

  constructor(classes: number) {
    super();
    this.head = new nn.Linear(32 * 7 * 7, classes);
  }

  forward(images: Tensor): Tensor {
    return this.head.forward(this.features.forward(images));
  }
}
