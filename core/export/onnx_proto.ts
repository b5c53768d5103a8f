/**
 * The part of ONNX's protobuf schema (`onnx.proto`) that an exported inference graph uses, and
 * its encoding with protobufjs. Only `exportOnnx` loads this module (with a dynamic import), so
 * nothing else pulls in the protobuf library.
 *
 * The field numbers are those of the official schema: any ONNX reader parses the result.
 *
 * @module
 */
import protobuf from "protobufjs";

const SCHEMA = `
syntax = "proto2";
package onnx;

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
}

message AttributeProto {
  optional string name = 1;
  optional int32 type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  repeated float floats = 7;
  repeated int64 ints = 8;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
}

message TensorShapeProto {
  message Dimension {
    optional int64 dim_value = 1;
    optional string dim_param = 2;
  }
  repeated Dimension dim = 1;
}
`;

/** ONNX's element types used here (`TensorProto.DataType`). */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** ONNX's attribute types used here (`AttributeProto.AttributeType`). */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** An attribute of a node, in protobufjs's camelCase object form. */
export interface AttributeJson {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

/** A node of the graph. */
export interface NodeJson {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute?: AttributeJson[];
}

/** A constant of the graph (a weight): raw little-endian values. */
export interface TensorJson {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** A graph input or output: its name, element type and shape (a string for a free size). */
export interface ValueInfoJson {
  name: string;
  elemType: number;
  shape: (number | string)[];
}

/** The model to encode. */
export interface ModelJson {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  graphName: string;
  nodes: NodeJson[];
  initializers: TensorJson[];
  inputs: ValueInfoJson[];
  outputs: ValueInfoJson[];
}

let modelType: protobuf.Type | null = null;

/** Encodes a model as the bytes of an `.onnx` file. */
export function encodeModel(model: ModelJson): Uint8Array {
  modelType ??= protobuf.parse(SCHEMA).root.lookupType("onnx.ModelProto");
  const valueInfo = (v: ValueInfoJson) => ({
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: {
          dim: v.shape.map((d) => typeof d === "number" ? { dimValue: d } : { dimParam: d }),
        },
      },
    },
  });
  const message = {
    irVersion: model.irVersion,
    opsetImport: [{ domain: "", version: model.opsetVersion }],
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    docString: model.docString,
    graph: {
      name: model.graphName,
      node: model.nodes,
      initializer: model.initializers,
      input: model.inputs.map(valueInfo),
      output: model.outputs.map(valueInfo),
    },
  };
  const problem = modelType.verify(message);
  if (problem) throw new Error(`exportOnnx: the model does not fit ONNX's schema: ${problem}`);
  return modelType.encode(modelType.fromObject(message)).finish();
}
