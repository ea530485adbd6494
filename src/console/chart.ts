/**
 * Sign-ins and failures per day as an SVG bar chart, drawn on the server: no script, no
 * library, readable by screen readers through its title and the table beside it.
 */
export interface DailyChart {
  width: number;
  height: number;
  days: { label: string; date: string; success: number; failure: number; x: number; successY: number; successH: number; failureY: number; failureH: number }[];
  max: number;
  /** Width of one bar. */
  bar: number;
  totalSuccess: number;
  totalFailure: number;
}

export function buildDailyChart(events: { occurredAt: string; outcome: string }[], since: Date, days: number): DailyChart {
  const counts = new Map<string, { success: number; failure: number }>();
  for (let i = 0; i < days; i += 1) counts.set(new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10), { success: 0, failure: 0 });
  for (const event of events) {
    const day = counts.get(event.occurredAt.slice(0, 10));
    if (day) day[event.outcome === 'success' ? 'success' : 'failure'] += 1;
  }
  const max = Math.max(1, ...[...counts.values()].map((day) => Math.max(day.success, day.failure)));
  const width = 560;
  const height = 160;
  const plot = height - 24;
  const slot = width / days;
  const bar = Math.max(4, Math.floor(slot / 2) - 3);
  const entries = [...counts.entries()].map(([date, day], index) => {
    const successH = Math.round((day.success / max) * (plot - 4));
    const failureH = Math.round((day.failure / max) * (plot - 4));
    return {
      date,
      label: date.slice(5),
      ...day,
      x: Math.round(index * slot + 2),
      successY: plot - successH,
      successH,
      failureY: plot - failureH,
      failureH,
    };
  });
  return {
    width,
    height,
    days: entries,
    max,
    bar,
    totalSuccess: entries.reduce((sum, entry) => sum + entry.success, 0),
    totalFailure: entries.reduce((sum, entry) => sum + entry.failure, 0),
  };
}
