// Colour for people at a terminal, none for scripts, logs and CI. The rules, in order, as Node's
// own tty.hasColors reads them and as force-color.org and no-color.org ask:
//   FORCE_COLOR set: colour unless it is "0" or "false" (even into a pipe);
//   NO_COLOR set and not empty: none;  TERM=dumb: none;  CI set (not "false"): none;
//   otherwise: colour only when the stream is a terminal.

export interface Paint {
  readonly on: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function colourWanted(
  stream: { readonly isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if ((env.NO_COLOR ?? '') !== '') return false;
  if (env.TERM === 'dumb') return false;
  const ci = env.CI ?? '';
  if (ci !== '' && ci !== 'false') return false;
  return stream.isTTY === true;
}

const sgr =
  (on: boolean, open: number, close: number) =>
  (text: string): string =>
    on && text !== '' ? `\x1b[${open}m${text}\x1b[${close}m` : text;

export function paintFor(
  stream: { readonly isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Paint {
  const on = colourWanted(stream, env);
  return {
    on,
    red: sgr(on, 31, 39),
    green: sgr(on, 32, 39),
    yellow: sgr(on, 33, 39),
    dim: sgr(on, 2, 22),
    bold: sgr(on, 1, 22),
  };
}
