// Recording what the engineer did: into the outbox at once (offline or not), then a sync when
// the network is there.
import * as outbox from "./outbox.js";
import * as sync from "./sync.js";
import { clock } from "./ids.js";

/** The calling screen redraws itself (one redraw: a second one would drop what is being typed). */
export async function record(name, args, local) {
  const current = await sync.session();
  const item = await outbox.record(current.user_id, name, args, local);
  if (navigator.onLine) sync.sync();
  return item;
}

/** Device time with its UTC offset, as the protocol requires (the server measures the offset). */
export const deviceNow = () => clock.now().toISOString();
