namespace FaceNetGen.Onnx;

/// <summary>
/// The field numbers and enum values of the part of the ONNX schema (onnx/onnx.proto, proto2, package onnx) that the
/// exporter writes. Each constant names its message and field as the schema does, with the field's protobuf type.
/// Fields we never write are listed only where skipping them needs saying.
/// </summary>
internal static class OnnxSchema
{
    /// <summary><c>message ModelProto</c>: the file's top-level message.</summary>
    public static class Model
    {
        /// <summary><c>optional int64 ir_version = 1;</c></summary>
        public const int IrVersion = 1;

        /// <summary><c>optional string producer_name = 2;</c></summary>
        public const int ProducerName = 2;

        /// <summary><c>optional string producer_version = 3;</c></summary>
        public const int ProducerVersion = 3;

        /// <summary><c>optional string domain = 4;</c></summary>
        public const int Domain = 4;

        /// <summary><c>optional int64 model_version = 5;</c></summary>
        public const int ModelVersion = 5;

        /// <summary><c>optional string doc_string = 6;</c></summary>
        public const int DocString = 6;

        /// <summary><c>optional GraphProto graph = 7;</c></summary>
        public const int Graph = 7;

        /// <summary><c>repeated OperatorSetIdProto opset_import = 8;</c></summary>
        public const int OpsetImport = 8;

        /// <summary><c>repeated StringStringEntryProto metadata_props = 14;</c></summary>
        public const int MetadataProps = 14;
    }

    /// <summary><c>message OperatorSetIdProto</c>.</summary>
    public static class OperatorSetId
    {
        /// <summary><c>optional string domain = 1;</c> — empty for the default "ai.onnx" domain, so we leave it out.</summary>
        public const int Domain = 1;

        /// <summary><c>optional int64 version = 2;</c></summary>
        public const int Version = 2;
    }

    /// <summary><c>message StringStringEntryProto</c>.</summary>
    public static class StringStringEntry
    {
        /// <summary><c>optional string key = 1;</c></summary>
        public const int Key = 1;

        /// <summary><c>optional string value = 2;</c></summary>
        public const int Value = 2;
    }

    /// <summary><c>message GraphProto</c>.</summary>
    public static class Graph
    {
        /// <summary><c>repeated NodeProto node = 1;</c> (topologically sorted).</summary>
        public const int Node = 1;

        /// <summary><c>optional string name = 2;</c></summary>
        public const int Name = 2;

        /// <summary><c>repeated TensorProto initializer = 5;</c></summary>
        public const int Initializer = 5;

        /// <summary><c>optional string doc_string = 10;</c></summary>
        public const int DocString = 10;

        /// <summary><c>repeated ValueInfoProto input = 11;</c></summary>
        public const int Input = 11;

        /// <summary><c>repeated ValueInfoProto output = 12;</c></summary>
        public const int Output = 12;
    }

    /// <summary><c>message NodeProto</c>.</summary>
    public static class Node
    {
        /// <summary><c>repeated string input = 1;</c></summary>
        public const int Input = 1;

        /// <summary><c>repeated string output = 2;</c></summary>
        public const int Output = 2;

        /// <summary><c>optional string name = 3;</c></summary>
        public const int Name = 3;

        /// <summary><c>optional string op_type = 4;</c></summary>
        public const int OpType = 4;

        /// <summary><c>repeated AttributeProto attribute = 5;</c></summary>
        public const int Attribute = 5;

        /// <summary><c>optional string domain = 7;</c> — left out: every op we write is in the default domain.</summary>
        public const int Domain = 7;
    }

    /// <summary><c>message AttributeProto</c>.</summary>
    public static class Attribute
    {
        /// <summary><c>optional string name = 1;</c></summary>
        public const int Name = 1;

        /// <summary><c>optional float f = 2;</c> (fixed32).</summary>
        public const int F = 2;

        /// <summary><c>optional int64 i = 3;</c></summary>
        public const int I = 3;

        /// <summary><c>optional bytes s = 4;</c> (UTF-8).</summary>
        public const int S = 4;

        /// <summary><c>repeated float floats = 7;</c></summary>
        public const int Floats = 7;

        /// <summary><c>repeated int64 ints = 8;</c> — written packed, which every proto2 parser accepts.</summary>
        public const int Ints = 8;

        /// <summary><c>optional AttributeType type = 20;</c> — required since IR version 2.</summary>
        public const int Type = 20;
    }

    /// <summary><c>enum AttributeProto.AttributeType</c>: the values of <see cref="Attribute.Type"/> we write.</summary>
    public enum AttributeType
    {
        Float = 1,
        Int = 2,
        String = 3,
        Floats = 6,
        Ints = 7,
    }

    /// <summary><c>message TensorProto</c>.</summary>
    public static class Tensor
    {
        /// <summary><c>repeated int64 dims = 1;</c> — written packed.</summary>
        public const int Dims = 1;

        /// <summary><c>optional int32 data_type = 2;</c> (a <see cref="DataType"/>).</summary>
        public const int DataType = 2;

        /// <summary><c>optional string name = 8;</c></summary>
        public const int Name = 8;

        /// <summary><c>optional bytes raw_data = 9;</c> — fixed-width little-endian elements, row-major.</summary>
        public const int RawData = 9;
    }

    /// <summary><c>enum TensorProto.DataType</c>: the element types we write.</summary>
    public enum DataType
    {
        Float = 1,
        Int64 = 7,
    }

    /// <summary><c>message ValueInfoProto</c>.</summary>
    public static class ValueInfo
    {
        /// <summary><c>optional string name = 1;</c></summary>
        public const int Name = 1;

        /// <summary><c>optional TypeProto type = 2;</c></summary>
        public const int Type = 2;

        /// <summary><c>optional string doc_string = 3;</c></summary>
        public const int DocString = 3;
    }

    /// <summary><c>message TypeProto</c>.</summary>
    public static class Type
    {
        /// <summary><c>Tensor tensor_type = 1;</c> (in <c>oneof value</c>).</summary>
        public const int TensorType = 1;
    }

    /// <summary><c>message TypeProto.Tensor</c>.</summary>
    public static class TensorType
    {
        /// <summary><c>optional int32 elem_type = 1;</c> (a <see cref="DataType"/>).</summary>
        public const int ElemType = 1;

        /// <summary><c>optional TensorShapeProto shape = 2;</c></summary>
        public const int Shape = 2;
    }

    /// <summary><c>message TensorShapeProto</c>.</summary>
    public static class TensorShape
    {
        /// <summary><c>repeated Dimension dim = 1;</c></summary>
        public const int Dim = 1;
    }

    /// <summary><c>message TensorShapeProto.Dimension</c>.</summary>
    public static class Dimension
    {
        /// <summary><c>int64 dim_value = 1;</c> (in <c>oneof value</c>).</summary>
        public const int DimValue = 1;

        /// <summary><c>string dim_param = 2;</c> (in <c>oneof value</c>): a symbolic dimension such as the batch "N".</summary>
        public const int DimParam = 2;
    }
}
