/* global ResizeObserver */
import uPlot from '/vendor/uplot/uPlot.esm.js';

const chartHeight = 280;

/**
 * Discriminator and generator loss against step, drawn with uPlot. Points arrive from the
 * scalars endpoint and then from live events, some of them twice (the stream first replays the
 * history the endpoint already gave; a resumed run repeats the steps after its checkpoint), so
 * a point for a step already drawn replaces it. The container's `data-points` holds the number
 * of steps drawn.
 */
export class LossChart {
  constructor(container) {
    this.container = container;
    this.steps = [];
    this.discriminator = [];
    this.generator = [];
    this.plot = new uPlot(
      {
        width: Math.max(container.clientWidth, 300),
        height: chartHeight,
        scales: { x: { time: false } },
        axes: [{ label: 'step' }, { label: 'loss' }],
        series: [
          { label: 'step' },
          { label: 'D loss', stroke: '#d9480f', width: 2, spanGaps: true },
          { label: 'G loss', stroke: '#1c7ed6', width: 2, spanGaps: true },
        ],
      },
      this.columns(),
      container,
    );
    this.resizeObserver = new ResizeObserver(() => {
      this.plot.setSize({ width: Math.max(container.clientWidth, 300), height: chartHeight });
    });
    this.resizeObserver.observe(container);
    this.publishCount();
  }

  /** Sets the losses logged at `step`; either may be undefined when only the other is known. */
  set(step, dLoss, gLoss) {
    const at = this.indexOf(step);
    if (this.steps[at] !== step) {
      this.steps.splice(at, 0, step);
      this.discriminator.splice(at, 0, null);
      this.generator.splice(at, 0, null);
    }
    if (Number.isFinite(dLoss)) this.discriminator[at] = dLoss;
    if (Number.isFinite(gLoss)) this.generator[at] = gLoss;
  }

  /** Redraws with every point set so far; callers batch sets and redraw once per frame. */
  redraw() {
    this.plot.setData(this.columns());
    this.publishCount();
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.plot.destroy();
  }

  columns() {
    return [this.steps, this.discriminator, this.generator];
  }

  publishCount() {
    this.container.dataset.points = String(this.steps.length);
  }

  /** Where `step` is or belongs; steps nearly always arrive in order, so try the end first. */
  indexOf(step) {
    const { steps } = this;
    if (steps.length === 0 || step > steps[steps.length - 1]) return steps.length;
    let low = 0;
    let high = steps.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (steps[middle] < step) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
