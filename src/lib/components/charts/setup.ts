import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip
} from 'chart.js';

// Only the Chart.js parts Pulse draws with: line and bar charts on a category axis, area fills,
// tooltips. Legends are HTML next to the chart (they read better and follow the theme).
Chart.register(
  LineController,
  LineElement,
  PointElement,
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  Filler,
  Tooltip
);

export { Chart };
