/**
 * The operator console: pipeline readiness, rates and lag, dead letters by reason, jobs with live
 * progress, replay and re-drive forms, and a device lookup with a chart. Every figure comes from
 * the /v1 API with the operator's token; every refusal is shown as the API's problem says it.
 */
import { ApiProblem, callApi, describeProblem, followJobStream, forgetToken, savedToken, saveToken, whenUnauthorized } from './api-client.ts';
import { drawChart } from './series-chart.ts';

interface ServiceStatus {
  kind: string;
  url: string;
  reachable: boolean;
  ready: boolean | null;
  checks: Record<string, string> | null;
  error: string | null;
  rates: Record<string, number | null> | null;
}

interface PipelineStatus {
  gateways: ServiceStatus[];
  enrichers: ServiceStatus[];
  lag: { groupId: string; topic: string; partitions: Array<{ partition: number; committed: string | null; end: string; lag: number }> | null; total: number | null; error: string | null } | null;
}

interface Job {
  id: string;
  kind: string;
  state: string;
  progress: { done: number; total: number; percent: number; ratePerSec: number; etaSeconds: number | null };
  counters: { records: number; rows: number; refused: Record<string, number> };
  error: string | null;
}

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`no #${id} in the page`);
  return element as T;
};

/** A table row of text cells (text only: nothing from the API is parsed as HTML). */
function row(cells: ReadonlyArray<string | Node>, attributes: Record<string, string> = {}): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const [key, value] of Object.entries(attributes)) tr.setAttribute(key, value);
  for (const cell of cells) {
    const td = document.createElement('td');
    td.append(cell);
    tr.append(td);
  }
  return tr;
}

function showProblem(target: HTMLElement, error: unknown): void {
  target.textContent = describeProblem(error).join('\n');
}

const timers: number[] = [];
let jobsAbort: AbortController | null = null;

function every(ms: number, task: () => Promise<void>): void {
  void task();
  timers.push(window.setInterval(() => void task(), ms));
}

// ---- pipeline ----

function serviceRow(service: ServiceStatus): HTMLTableRowElement {
  const ready = document.createElement('span');
  ready.className = service.ready === true ? 'ok' : 'bad';
  ready.textContent = !service.reachable ? `unreachable: ${service.error ?? ''}` : service.ready ? 'ready' : `not ready: ${Object.entries(service.checks ?? {}).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k} ${v}`).join(', ')}`;
  const rates = service.rates === null ? '–' : Object.entries(service.rates).map(([name, value]) => `${name.replace(/PerSec$/, '')} ${value ?? '–'}/s`).join(', ');
  return row([service.kind, service.url, ready, rates], { 'data-testid': `service-${service.kind}` });
}

async function refreshPipeline(): Promise<void> {
  const error = byId('pipeline-error');
  try {
    const status = await callApi<PipelineStatus>('GET', '/v1/pipeline/status');
    byId('services').querySelector('tbody')!.replaceChildren(...[...status.gateways, ...status.enrichers].map(serviceRow));
    const lag = status.lag;
    byId('lag-caption').textContent = lag === null ? 'Consumer lag: not watched' : `Consumer lag of ${lag.groupId} on ${lag.topic}: ${lag.total ?? '?'} records${lag.error === null ? '' : ` (${lag.error})`}`;
    byId('lag').querySelector('tbody')!.replaceChildren(...(lag?.partitions ?? []).map((p) => row([String(p.partition), p.committed ?? 'none', p.end, String(p.lag)])));
    error.textContent = '';
  } catch (failure) {
    showProblem(error, failure);
  }
}

// ---- dead letters ----

/** Reason → count from the summary, whichever of the two natural shapes it has. */
function reasonCounts(body: unknown): Array<[string, number]> {
  const record = body as { reasons?: unknown; byReason?: unknown };
  const list = Array.isArray(record.reasons) ? (record.reasons as Array<{ reason: string; count: number }>) : null;
  if (list !== null) return list.map((item) => [item.reason, item.count]);
  const map = (record.byReason ?? record.reasons ?? {}) as Record<string, number>;
  return Object.entries(map);
}

async function refreshDeadLetters(): Promise<void> {
  const note = byId('dead-letters-note');
  try {
    const summary = await callApi<{ scanned?: number; total?: number; complete?: boolean }>('GET', '/v1/dead-letters/summary');
    const counts = reasonCounts(summary);
    byId('dead-letters').querySelector('tbody')!.replaceChildren(...counts.map(([reason, count]) => row([reason, String(count)], { 'data-reason': reason })));
    note.textContent = counts.length === 0 ? 'No dead letters.' : summary.complete === false ? `Counted over the newest ${summary.scanned ?? '?'} of ${summary.total ?? '?'}.` : '';
  } catch (failure) {
    note.textContent = failure instanceof ApiProblem && failure.problem.status === 404 ? 'This API has no dead-letter summary.' : describeProblem(failure).join('\n');
  }
}

// ---- jobs ----

const jobs = new Map<string, Job>();

function jobRow(job: Job): HTMLTableRowElement {
  const percent = Math.round(job.progress.percent);
  const bar = document.createElement('progress');
  bar.max = 100;
  bar.value = percent;
  bar.dataset.testid = 'job-progress';
  bar.setAttribute('aria-label', `job ${job.id} progress`);
  const label = document.createElement('span');
  label.textContent = ` ${percent} % (${job.progress.done}/${job.progress.total})`;
  const progress = document.createElement('span');
  progress.append(bar, label);
  const actions = document.createElement('span');
  if (job.state === 'accepted' || job.state === 'running') {
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.textContent = 'Cancel';
    cancel.addEventListener('click', () => void callApi('DELETE', `/v1/jobs/${encodeURIComponent(job.id)}`).catch((failure: unknown) => showProblem(byId('jobs-error'), failure)));
    actions.append(cancel);
  }
  const state = job.error === null ? job.state : `${job.state}: ${job.error}`;
  return row([job.id, job.kind, state, progress, String(job.counters.rows), actions], { 'data-job-id': job.id, 'data-state': job.state });
}

function renderJobs(): void {
  const newest = [...jobs.values()].reverse().slice(0, 50);
  byId('jobs').querySelector('tbody')!.replaceChildren(...newest.map(jobRow));
}

function upsertJob(job: Job): void {
  // a changed job moves to the end of the map's order: newest first after reverse()
  jobs.delete(job.id);
  jobs.set(job.id, job);
  renderJobs();
}

/** The job stream while it works; polling GET /v1/jobs while it does not, trying the stream again. */
async function followJobs(signal: AbortSignal): Promise<void> {
  const mode = byId('jobs-mode');
  while (!signal.aborted) {
    try {
      mode.textContent = 'Live updates (server-sent events).';
      await followJobStream<Job>(upsertJob, signal);
    } catch (failure) {
      if (signal.aborted) return;
      mode.textContent = `Live updates unavailable (${describeProblem(failure)[0]}); polling.`;
    }
    try {
      const list = await callApi<{ items: Job[] }>('GET', '/v1/jobs?limit=50');
      for (const job of [...list.items].reverse()) upsertJob(job);
      byId('jobs-error').textContent = '';
    } catch (failure) {
      showProblem(byId('jobs-error'), failure);
    }
    await new Promise((resolve) => window.setTimeout(resolve, 2000));
  }
}

// ---- forms ----

function formValues(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of new FormData(form)) if (typeof value === 'string' && value.trim() !== '') values[key] = value.trim();
  return values;
}

function submitJob(formId: string, path: string, body: (values: Record<string, string>) => unknown): void {
  const form = byId<HTMLFormElement>(`${formId}-form`);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const result = byId(`${formId}-result`);
    const error = byId(`${formId}-error`);
    result.textContent = '';
    error.textContent = '';
    // one key per submission: a retried request (network trouble) names the same job
    callApi<Job>('POST', path, body(formValues(form)), { 'idempotency-key': crypto.randomUUID() }).then(
      (job) => {
        result.textContent = `Job ${job.id} accepted.`;
        result.dataset.jobId = job.id;
        upsertJob(job);
      },
      (failure: unknown) => showProblem(error, failure),
    );
  });
}

function replayBody(values: Record<string, string>): unknown {
  const partitions = values.partitions === undefined || values.partitions === 'all' ? 'all' : values.partitions.split(',').map((part) => Number(part.trim()));
  return { partitions, ...(values.from && { from: values.from }), ...(values.to && { to: values.to }), maxRatePerSec: Number(values.maxRatePerSec ?? 0) };
}

function redriveBody(values: Record<string, string>): unknown {
  const { reason, deviceId, from, to } = values;
  return { ...(reason && { reason }), ...(deviceId && { deviceId }), ...(from && { from }), ...(to && { to }) };
}

// ---- device lookup ----

/** Bucket widths that keep each range near 60 points. */
const steps: Readonly<Record<string, string>> = { '15m': '15s', '1h': '1m', '6h': '6m', '1d': '24m' };

async function lookUpDevice(values: Record<string, string>): Promise<void> {
  const id = encodeURIComponent(values.deviceId ?? '');
  const latest = await callApi<{ readings: Array<{ metric: string; value: number | null; unit: string | null; ts: string; site: string | null }> }>('GET', `/v1/devices/${id}/latest`);
  byId('device-latest').querySelector('tbody')!.replaceChildren(
    ...latest.readings.map((reading) => row([reading.metric, `${reading.value ?? '–'}${reading.unit === null ? '' : ` ${reading.unit}`}`, reading.ts, reading.site ?? ''], { 'data-metric': reading.metric })),
  );
  const metric = values.metric ?? latest.readings[0]?.metric;
  const chart = byId('device-chart') as unknown as SVGSVGElement;
  if (metric === undefined) {
    drawChart(chart, [], `${values.deviceId ?? ''}: no readings`);
    return;
  }
  const range = values.range ?? '1h';
  const query = new URLSearchParams({ metric, from: `now-${range}`, to: 'now', step: steps[range] ?? '1m' });
  const series = await callApi<{ unit: string | null; points: Array<{ ts: string; value: number | null }> }>('GET', `/v1/devices/${id}/series?${query.toString()}`);
  drawChart(chart, series.points.map((point) => ({ tsMs: Date.parse(point.ts), value: point.value })), `${values.deviceId ?? ''} ${metric}${series.unit === null ? '' : ` (${series.unit})`}, last ${range}`);
}

// ---- sign in and out ----

function showConsole(): void {
  byId('sign-in').hidden = true;
  byId('console').hidden = false;
  byId('sign-out').hidden = false;
  every(5000, refreshPipeline);
  every(10_000, refreshDeadLetters);
  jobsAbort = new AbortController();
  void followJobs(jobsAbort.signal);
}

function showSignIn(message = ''): void {
  for (const timer of timers.splice(0)) window.clearInterval(timer);
  jobsAbort?.abort();
  jobsAbort = null;
  byId('console').hidden = true;
  byId('sign-out').hidden = true;
  byId('sign-in').hidden = false;
  byId('token-error').textContent = message;
  byId<HTMLInputElement>('token-input').focus();
}

function start(): void {
  whenUnauthorized(() => {
    forgetToken();
    showSignIn('The API refused the token (revoked or mistyped): enter another.');
  });
  byId<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('token-input');
    saveToken(input.value.trim());
    input.value = '';
    // the token is checked by the first call; a 401 brings the form back
    showConsole();
  });
  byId('sign-out').addEventListener('click', () => {
    forgetToken();
    showSignIn();
  });
  submitJob('replay', '/v1/replays', replayBody);
  submitJob('redrive', '/v1/dead-letters/redrive', redriveBody);
  byId<HTMLFormElement>('device-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const error = byId('device-error');
    error.textContent = '';
    lookUpDevice(formValues(event.target as HTMLFormElement)).catch((failure: unknown) => showProblem(error, failure));
  });
  if (savedToken() === null) showSignIn();
  else showConsole();
}

start();
