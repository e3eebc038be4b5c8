// Original file: proto/knit/v1/knit.proto


export interface PortMapping {
  'hostPort'?: (number);
  'containerPort'?: (number);
  /**
   * "tcp", "udp" or "sctp".
   */
  'protocol'?: (string);
  'hostIp'?: (string);
}

export interface PortMapping__Output {
  'hostPort': (number);
  'containerPort': (number);
  /**
   * "tcp", "udp" or "sctp".
   */
  'protocol': (string);
  'hostIp': (string);
}
