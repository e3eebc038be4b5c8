// Original file: proto/knit/v1/knit.proto


export interface BgpRoute {
  'prefix'?: (string);
  'nextHop'?: (string);
  'peerAddress'?: (string);
  'asPath'?: (number)[];
  /**
   * Whether knit installed it in the kernel.
   */
  'installed'?: (boolean);
}

export interface BgpRoute__Output {
  'prefix': (string);
  'nextHop': (string);
  'peerAddress': (string);
  'asPath': (number)[];
  /**
   * Whether knit installed it in the kernel.
   */
  'installed': (boolean);
}
