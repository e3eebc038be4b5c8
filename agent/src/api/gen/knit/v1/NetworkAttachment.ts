// Original file: proto/knit/v1/knit.proto


export interface NetworkAttachment {
  'nodeName'?: (string);
  'endpoints'?: (number);
}

export interface NetworkAttachment__Output {
  'nodeName': (string);
  'endpoints': (number);
}
