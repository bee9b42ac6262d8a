//! The parts of TFLite's schema (`tensorflow/lite/schema/schema.fbs`, version 3) the
//! importer reads, as typed views over [`crate::flatbuffer`]; field ids are the schema's
//! declaration order. Every list a view decodes, and every buffer it hands out (to be copied),
//! is charged by its bytes to one budget of 16 times the file's size, so a file that points
//! many tables at one long vector cannot make the reader decode or copy more.

use std::cell::Cell;

use crate::flatbuffer::{Malformed, Scalar, Table, Vector};

type Result<T> = std::result::Result<T, Malformed>;

/// The file identifier TFLite writes at bytes 4..8.
pub const IDENTIFIER: &[u8; 4] = b"TFL3";
/// The schema version this reader knows.
pub const VERSION: u32 = 3;

/// `TensorType` codes the importer handles.
pub mod dtype {
    pub const FLOAT32: u8 = 0;
    pub const INT32: u8 = 2;
    pub const INT8: u8 = 9;

    /// The name of type code `t`, as schema.fbs spells it.
    pub fn name(t: u8) -> String {
        const NAMES: [&str; 18] = [
            "FLOAT32",
            "FLOAT16",
            "INT32",
            "UINT8",
            "INT64",
            "STRING",
            "BOOL",
            "INT16",
            "COMPLEX64",
            "INT8",
            "FLOAT64",
            "COMPLEX128",
            "UINT64",
            "RESOURCE",
            "VARIANT",
            "UINT32",
            "UINT16",
            "INT4",
        ];
        NAMES
            .get(t as usize)
            .map_or_else(|| format!("type {t}"), |n| n.to_string())
    }
}

/// A `.tflite` file's root `Model` table.
pub struct File<'a> {
    root: Table<'a>,
    /// Bytes any view may still decode (or its reader copy).
    budget: Cell<usize>,
}

/// One `SubGraph`.
pub struct SubGraph<'a> {
    file: &'a File<'a>,
    table: Table<'a>,
    tensors: Option<Vector<'a>>,
    operators: Option<Vector<'a>>,
}

/// One `Tensor`, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<i32>,
    pub dtype: u8,
    pub buffer: u32,
    pub quantization: Option<Quantization>,
}

/// `QuantizationParameters`: `real = (q - zero_point) * scale`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantization {
    pub scale: Vec<f32>,
    pub zero_point: Vec<i64>,
    pub quantized_dimension: i32,
}

/// One `Operator`, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    pub opcode_index: u32,
    /// Tensor indices; -1 is an optional input left out.
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    /// `builtin_options_type`: which options table `builtin_options` is ([`options`]).
    pub options_type: u8,
    /// Field 0 of the options: `fused_activation_function` of FULLY_CONNECTED's, ADD's and
    /// MUL's options, 0 (NONE) when absent.
    pub fused_activation: u8,
    /// FULLY_CONNECTED's `weights_format` (field 1), 0 (DEFAULT) when absent.
    pub weights_format: u8,
}

/// One `OperatorCode`.
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorCode {
    /// The larger of `deprecated_builtin_code` and `builtin_code`, as TFLite reads it.
    pub builtin: i32,
    pub custom: Option<String>,
}

impl<'a> File<'a> {
    /// Checks the identifier and the version, and finds the root table.
    pub fn parse(bytes: &'a [u8]) -> Result<File<'a>> {
        if bytes.get(4..8) != Some(IDENTIFIER) {
            return Err(Malformed(format!(
                "not a TFLite model: bytes 4..8 are not the identifier \"TFL3\" ({} bytes read)",
                bytes.len()
            )));
        }
        let root = Table::root(bytes, "the model table")?;
        let version = root.scalar::<u32>(0, 0, "Model.version")?;
        if version != VERSION {
            return Err(Malformed(format!(
                "schema version {version}; this reader knows version {VERSION}"
            )));
        }
        Ok(File {
            root,
            budget: Cell::new(bytes.len().saturating_mul(16).saturating_add(4096)),
        })
    }

    fn charge(&self, elements: usize, what: &str) -> Result<()> {
        let left = self.budget.get().checked_sub(elements).ok_or_else(|| {
            Malformed(format!(
                "{what}: the file refers to the same data over and over (more than 16 times \
                 its size decoded or copied)"
            ))
        })?;
        self.budget.set(left);
        Ok(())
    }

    fn list<T: Scalar>(&self, v: Option<Vector<'a>>, what: &str) -> Result<Vec<T>> {
        let Some(v) = v else { return Ok(Vec::new()) };
        self.charge(v.len() * T::SIZE, what)?;
        Ok(v.to_vec())
    }

    pub fn subgraphs(&self) -> Result<usize> {
        Ok(self
            .root
            .vector(2, 4, "Model.subgraphs")?
            .map_or(0, |v| v.len()))
    }

    pub fn subgraph(&'a self, i: usize) -> Result<SubGraph<'a>> {
        let what = format!("subgraphs[{i}]");
        let table = nth(
            self.root.vector(2, 4, "Model.subgraphs")?,
            i,
            &what,
            "subgraph",
        )?;
        Ok(SubGraph {
            file: self,
            tensors: table.vector(0, 4, &format!("{what}.tensors"))?,
            operators: table.vector(3, 4, &format!("{what}.operators"))?,
            table,
        })
    }

    pub fn operator_code(&self, i: u32) -> Result<OperatorCode> {
        let what = format!("operator_codes[{i}]");
        let codes = self.root.vector(1, 4, "Model.operator_codes")?;
        let table = nth(codes, i as usize, &what, "operator code")?;
        let deprecated = table.scalar::<i8>(0, 0, &what)? as i32;
        let builtin = table.scalar::<i32>(3, 0, &what)?;
        let custom = table.string(1, &what)?;
        if let Some(c) = &custom {
            self.charge(c.len(), &what)?;
        }
        Ok(OperatorCode {
            builtin: builtin.max(deprecated),
            custom,
        })
    }

    /// The bytes of buffer `i` (empty for a tensor computed at run time).
    pub fn buffer(&self, i: u32) -> Result<&'a [u8]> {
        let what = format!("buffers[{i}]");
        let table = nth(
            self.root.vector(4, 4, "Model.buffers")?,
            i as usize,
            &what,
            "buffer",
        )?;
        if table.scalar::<u64>(1, 0, &what)? > 1 {
            return Err(Malformed(format!(
                "{what}: the data lies outside the flatbuffer (a model over 2 GB); not supported"
            )));
        }
        let bytes = table.vector(0, 1, &what)?.map_or(&[][..], |v| v.bytes());
        // Whoever asks for a buffer copies it.
        self.charge(bytes.len(), &what)?;
        Ok(bytes)
    }
}

impl<'a> SubGraph<'a> {
    pub fn tensor_count(&self) -> usize {
        self.tensors.map_or(0, |v| v.len())
    }

    pub fn operator_count(&self) -> usize {
        self.operators.map_or(0, |v| v.len())
    }

    pub fn inputs(&self) -> Result<Vec<i32>> {
        let v = self.table.vector(1, 4, "SubGraph.inputs")?;
        self.file.list(v, "SubGraph.inputs")
    }

    pub fn outputs(&self) -> Result<Vec<i32>> {
        let v = self.table.vector(2, 4, "SubGraph.outputs")?;
        self.file.list(v, "SubGraph.outputs")
    }

    pub fn tensor(&self, i: usize) -> Result<Tensor> {
        let what = format!("tensors[{i}]");
        let t = nth(self.tensors, i, &what, "tensor")?;
        let f = self.file;
        let quantization = match t.table(4, &format!("{what}.quantization"))? {
            None => None,
            Some(q) => {
                let at = format!("{what}.quantization");
                Some(Quantization {
                    scale: f.list(q.vector(2, 4, &at)?, &at)?,
                    zero_point: f.list(q.vector(3, 8, &at)?, &at)?,
                    quantized_dimension: q.scalar::<i32>(6, 0, &at)?,
                })
            }
        };
        let name = t.string(3, &what)?.unwrap_or_default();
        f.charge(name.len(), &what)?;
        Ok(Tensor {
            shape: f.list(t.vector(0, 4, &what)?, &what)?,
            dtype: t.scalar::<i8>(1, 0, &what)? as u8,
            buffer: t.scalar::<u32>(2, 0, &what)?,
            name,
            quantization,
        })
    }

    pub fn operator(&self, i: usize) -> Result<Operator> {
        let what = format!("operators[{i}]");
        let op = nth(self.operators, i, &what, "operator")?;
        let f = self.file;
        let options = op.table(4, &what)?;
        let option = |id| options.map_or(Ok(0), |o| o.scalar::<u8>(id, 0, &what));
        Ok(Operator {
            opcode_index: op.scalar::<u32>(0, 0, &what)?,
            options_type: op.scalar::<u8>(3, 0, &what)?,
            inputs: f.list(op.vector(1, 4, &what)?, &what)?,
            outputs: f.list(op.vector(2, 4, &what)?, &what)?,
            fused_activation: option(0)?,
            weights_format: option(1)?,
        })
    }
}
/// Table `i` of an optional list of tables, read as `what`, or an error: no such `noun`.
fn nth<'a>(list: Option<Vector<'a>>, i: usize, what: &str, noun: &str) -> Result<Table<'a>> {
    match list {
        Some(v) if i < v.len() => v.table(i, what),
        _ => Err(Malformed(format!("{what}: no such {noun}"))),
    }
}

/// `BuiltinOperator`'s names by code, as schema.fbs (version 3) spells them.
const BUILTIN_NAMES: [&str; 162] = [
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
];

/// The name of builtin operator `code`.
pub fn builtin_name(code: i32) -> String {
    usize::try_from(code)
        .ok()
        .and_then(|c| BUILTIN_NAMES.get(c))
        .map_or_else(|| format!("builtin operator {code}"), |n| n.to_string())
}

/// The `BuiltinOptions` union's tags of the options the importer reads.
pub mod options {
    pub const FULLY_CONNECTED: u8 = 8;
    pub const ADD: u8 = 11;
    pub const MUL: u8 = 21;
}

/// The builtin operator codes the importer reads.
pub mod op {
    pub const ADD: i32 = 0;
    pub const DEQUANTIZE: i32 = 6;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const LOGISTIC: i32 = 14;
    pub const MUL: i32 = 18;
    pub const RESHAPE: i32 = 22;
    pub const SOFTMAX: i32 = 25;
    pub const TANH: i32 = 28;
    pub const QUANTIZE: i32 = 114;
}
