// Regenerates models/reference-cnn-digits0-4.json, the starting point of examples/transfer.ts
// and examples/ablation.ts: the reference CNN trained in fp32 on MNIST digits 0-4 only
// (seeded: the same file on every run). Usage: npx tsx examples/transfer-pretrain.ts
import { PRETRAINED_FILE, pretrainOldDigits } from '../targets/node/transfer_task.js';

pretrainOldDigits();
console.log(`wrote ${PRETRAINED_FILE.pathname}`);
