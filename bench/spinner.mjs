// A waiting agent as operators see them all day: at 10 fps it redraws a spinner line and a
// 20-row box under it (cursor moves and a few changed cells each frame), forever.
const FRAMES = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
let n = 0;
process.stdout.write('\x1b[2J\x1b[H\x1b[?25l');
setInterval(() => {
  n++;
  let out = `\x1b[1;1H\x1b[36m${FRAMES[n % FRAMES.length]}\x1b[0m Thinking… (${(n / 10).toFixed(1)}s · esc to interrupt)\x1b[K`;
  out += '\x1b[3;1H╭' + '─'.repeat(58) + '╮';
  for (let r = 0; r < 18; r++) out += `\x1b[${4 + r};1H│ ${`row ${r} ${r === n % 18 ? '●' : '○'}`.padEnd(56)} │`;
  out += '\x1b[22;1H╰' + '─'.repeat(58) + '╯';
  process.stdout.write(out);
}, 100);
