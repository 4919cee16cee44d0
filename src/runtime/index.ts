import { Status } from '../formats/schema';
export function version(): i32 { return Status.OK; }
