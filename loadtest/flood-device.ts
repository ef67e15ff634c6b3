/**
 * A flooding device in a process of its own (loadtest/mqtt-flooder.ts), so its writes do not share an
 * event loop with the gateway it floods (the tests run the gateway in-process). Started with an IPC
 * channel: it sends 'flooding' once connected, and on 'stop' sends its FloodResult and exits.
 *
 *   node loadtest/flood-device.ts <port> <deviceId> <secret> <topic> <qos> <payloadBytes>
 */
import { startFlood } from './mqtt-flooder.ts';

const [port, deviceId, secret, topic, qos, payloadBytes] = process.argv.slice(2);
if (!process.send || payloadBytes === undefined) throw new Error('usage: fork with an IPC channel: <port> <deviceId> <secret> <topic> <qos> <payloadBytes>');
const flood = await startFlood({ port: Number(port), deviceId: deviceId!, secret: secret!, topic: topic!, qos: Number(qos) as 0 | 1 | 2, payloadBytes: Number(payloadBytes) });
process.send('flooding');
process.once('message', () => {
  void flood.stop().then((result) => process.send!(result, () => process.exit(0)));
});
