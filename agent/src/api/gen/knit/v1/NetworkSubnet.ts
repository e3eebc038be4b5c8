// Original file: proto/knit/v1/knit.proto


export interface NetworkSubnet {
  'subnet'?: (string);
  'nodeName'?: (string);
  'publicIp'?: (string);
}

export interface NetworkSubnet__Output {
  'subnet': (string);
  'nodeName': (string);
  'publicIp': (string);
}
