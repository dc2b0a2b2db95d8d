/**
 * A gradient for Conv2DBackpropFilter, which TF.js does not define, so a loss that contains a
 * convolution's filter gradient (a gradient penalty on weights, a second derivative through a
 * transposed convolution's weights) can be differentiated on every backend. Conv2DBackpropInput
 * already has one in tfjs-core.
 *
 * dw = F(x, dy) is bilinear: <F(x, dy), u> = <conv2d(x, u), dy> for any filter-shaped u. So for an
 * upstream gradient u = d(loss)/d(dw): d/d(dy) = conv2d(x, u) and d/dx = conv2dBackpropInput(dy, u),
 * both with the forward convolution's strides and padding. Both run as kernels on the tape, so
 * they are differentiable again.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';

interface ConvAttrs {
  strides: number | [number, number];
  pad: unknown;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export const conv2dBackpropFilterGradConfig: GradConfig = {
  kernelName: 'Conv2DBackpropFilter',
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddw: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, dy] = saved;
    const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as ConvAttrs;
    const convAttrs = { strides, pad, dataFormat, dimRoundingMode };
    const u = ddw as Tensor;
    return {
      x: () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: u }, {
          ...convAttrs,
          inputShape: x.shape,
        } as unknown as NamedAttrMap) as Tensor,
      dy: () =>
        tf.engine().runKernel('Conv2D', { x, filter: u }, {
          ...convAttrs,
          dilations: [1, 1],
        } as unknown as NamedAttrMap) as Tensor,
    };
  },
};

/** Idempotent and backend-independent: gradients are registered once per process. */
export function registerSecondOrderGradients(): void {
  if (tf.getGradient(conv2dBackpropFilterGradConfig.kernelName)) return;
  tf.registerGradient(conv2dBackpropFilterGradConfig);
}
