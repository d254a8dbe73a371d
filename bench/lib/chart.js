'use strict';

const { ENGINE_LABELS } = require('./report');

const COLORS = {
  native: '#d95f02',
  js: '#7570b3',
  'tfjs-cpu': '#66a61e',
  'tfjs-wasm': '#1b9e77',
  torch: '#e7298a',
};
const WIDTH = 960;
const HEIGHT = 520;
const MARGIN = { top: 56, right: 24, bottom: 96, left: 96 };

function escapeXml(text) {
  const entities = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' };
  return String(text).replace(/[<>&"]/g, (c) => entities[c]);
}

/** Formats one SVG element, rounding numbers in `attributes` to 0.1. */
function element(tag, attributes, content = null) {
  const pairs = Object.entries(attributes).map(([name, value]) => {
    const text = typeof value === 'number' ? Number(value.toFixed(1)) : escapeXml(value);
    return `${name}="${text}"`;
  });
  const open = `<${tag} ${pairs.join(' ')}`;
  return content === null ? `${open}/>` : `${open}>${content}</${tag}>`;
}

/** Compact label of a power of ten: 10, 100, 1k, 10k, ..., 1M. */
function formatDecade(value) {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(value);
}

function formatRate(value) {
  if (value >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toPrecision(3);
}

/** Training cases that have at least one measured engine, as bar groups. */
function barGroups(results) {
  return results.cases
    .filter((c) => c.kind === 'training' && !c.error)
    .map((c) => ({
      name: c.name,
      bars: Object.entries(c.engines)
        .filter(([, result]) => Number.isFinite(result.samplesPerSecond))
        .map(([engine, result]) => ({ engine, value: result.samplesPerSecond })),
    }))
    .filter((group) => group.bars.length > 0);
}

function titles(results) {
  const { cpu, onecycle, node } = results.machine;
  return [
    element(
      'text',
      { x: WIDTH / 2, y: 24, 'text-anchor': 'middle', 'font-size': 16 },
      escapeXml(`Training throughput per engine (${cpu}, ${results.threads} threads)`),
    ),
    element(
      'text',
      { x: WIDTH / 2, y: 40, 'text-anchor': 'middle', 'font-size': 11, fill: '#555' },
      escapeXml(`median of timed training calls; onecycle ${onecycle}, Node ${node}`),
    ),
  ];
}

function axes(scale) {
  const { y, minDecade, maxDecade, left, right, top, baseline } = scale;
  const parts = [];
  for (let decade = minDecade; decade <= maxDecade; decade++) {
    const lineY = y(10 ** decade);
    parts.push(
      element('line', { x1: left, x2: right, y1: lineY, y2: lineY, stroke: '#ddd' }),
      element(
        'text',
        { x: left - 8, y: lineY, 'text-anchor': 'end', 'dominant-baseline': 'middle' },
        formatDecade(10 ** decade),
      ),
    );
  }
  const middleY = (top + baseline) / 2;
  parts.push(
    element('line', { x1: left, x2: left, y1: top, y2: baseline, stroke: 'black' }),
    element('line', { x1: left, x2: right, y1: baseline, y2: baseline, stroke: 'black' }),
    element(
      'text',
      { transform: `translate(24 ${middleY}) rotate(-90)`, 'text-anchor': 'middle' },
      'training samples per second (log scale)',
    ),
    element('text', { x: (left + right) / 2, y: baseline + 44, 'text-anchor': 'middle' }, 'case'),
  );
  return parts;
}

function bars(groups, scale) {
  const { y, left, right, baseline } = scale;
  const groupWidth = (right - left) / groups.length;
  const maxBars = Math.max(...groups.map((group) => group.bars.length));
  const barWidth = Math.min(40, (groupWidth * 0.8) / maxBars);
  const parts = [];
  groups.forEach((group, groupIndex) => {
    const center = left + groupWidth * (groupIndex + 0.5);
    const start = center - (barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, barIndex) => {
      const x = start + barIndex * barWidth;
      const top = y(bar.value);
      const tooltip = `${ENGINE_LABELS[bar.engine]}: ${Math.round(bar.value)} samples/s`;
      parts.push(
        element(
          'rect',
          { x, y: top, width: barWidth - 2, height: baseline - top, fill: COLORS[bar.engine] },
          `<title>${escapeXml(tooltip)}</title>`,
        ),
        element(
          'text',
          { x: x + barWidth / 2 - 1, y: top - 4, 'text-anchor': 'middle', 'font-size': 10 },
          formatRate(bar.value),
        ),
      );
    });
    parts.push(
      element(
        'text',
        { x: center, y: baseline + 20, 'text-anchor': 'middle' },
        escapeXml(group.name),
      ),
    );
  });
  return parts;
}

function legend(groups) {
  const present = Object.keys(COLORS).filter((engine) =>
    groups.some((group) => group.bars.some((bar) => bar.engine === engine)),
  );
  const legendY = HEIGHT - 24;
  return present.flatMap((engine, index) => {
    const x = MARGIN.left + index * 150;
    return [
      element('rect', { x, y: legendY - 10, width: 12, height: 12, fill: COLORS[engine] }),
      element('text', { x: x + 18, y: legendY }, escapeXml(ENGINE_LABELS[engine])),
    ];
  });
}

/**
 * Renders a grouped bar chart of training samples/s per case and engine on
 * a log scale, as a standalone SVG document. Returns null when no training
 * case has a measurement.
 */
function renderChart(results) {
  const groups = barGroups(results);
  const values = groups.flatMap((group) => group.bars.map((bar) => bar.value));
  if (values.length === 0) return null;

  const minDecade = Math.floor(Math.log10(Math.min(...values)));
  const maxDecade = Math.ceil(Math.log10(Math.max(...values)));
  const top = MARGIN.top;
  const baseline = HEIGHT - MARGIN.bottom;
  const decades = Math.max(1, maxDecade - minDecade);
  const scale = {
    minDecade,
    maxDecade,
    left: MARGIN.left,
    right: WIDTH - MARGIN.right,
    top,
    baseline,
    y: (value) => baseline - ((baseline - top) * (Math.log10(value) - minDecade)) / decades,
  };

  const svg = element(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width: WIDTH,
      height: HEIGHT,
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      'font-family': 'sans-serif',
      'font-size': 12,
    },
    [
      '',
      element('rect', { width: WIDTH, height: HEIGHT, fill: 'white' }),
      ...titles(results),
      ...axes(scale),
      ...bars(groups, scale),
      ...legend(groups),
      '',
    ].join('\n'),
  );
  return `${svg}\n`;
}

module.exports = { renderChart };
