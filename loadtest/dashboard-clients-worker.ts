/** The worker thread of the dashboard clients: runs them with its workerData and posts the report. */
import { parentPort, workerData } from 'node:worker_threads';
import { runDashboardClients, type DashboardClientsOptions } from './dashboard-clients.ts';

parentPort?.postMessage(await runDashboardClients(workerData as DashboardClientsOptions));
