namespace Research.Torch;

/// <summary>
/// One position of <c>x[...]</c>, as in PyTorch: an integer (<c>0</c>, <c>^1</c>), a range (<c>1..</c>,
/// <c>..^1</c>, <c>..</c>), a slice with a step (<see cref="Slice"/>), a new axis (<see cref="NewAxis"/>,
/// PyTorch's None), an ellipsis (<see cref="Ellipsis"/>), or a tensor of int64 indices or a bool mask.
/// <code>
/// x[0, 1]   x[1..]   x[^1]   x[.., 0]   x[TensorIndex.NewAxis]   x[TensorIndex.Ellipsis, 0]   x[x > 0.5]
/// </code>
/// </summary>
public readonly struct TensorIndex
{
    internal enum Kind { Integer, Slice, NewAxis, Ellipsis, Tensor }

    internal readonly Kind kind;
    internal readonly long integer;        // Integer
    internal readonly long? start, stop;   // Slice: null = from the beginning / to the end
    internal readonly long step;           // Slice
    internal readonly Tensor? tensor;      // Tensor

    private TensorIndex(Kind kind, long integer = 0, long? start = null, long? stop = null, long step = 1, Tensor? tensor = null) =>
        (this.kind, this.integer, this.start, this.stop, this.step, this.tensor) = (kind, integer, start, stop, step, tensor);

    /// <summary>Inserts a dimension of size 1 (PyTorch's <c>x[None]</c>).</summary>
    public static readonly TensorIndex NewAxis = new(Kind.NewAxis);

    /// <summary>Stands for as many whole dimensions as needed (PyTorch's <c>x[..., 0]</c>).</summary>
    public static readonly TensorIndex Ellipsis = new(Kind.Ellipsis);

    /// <summary>start:stop:step; negative bounds count from the end, null means the whole extent.</summary>
    public static TensorIndex Slice(long? start = null, long? stop = null, long step = 1) =>
        step >= 1 ? new(Kind.Slice, start: start, stop: stop, step: step)
        : throw new ArgumentOutOfRangeException(nameof(step), step, "slice steps must be >= 1 (as in PyTorch)");

    /// <summary>An integer index; negative values count from the end.</summary>
    public static implicit operator TensorIndex(long i) => new(Kind.Integer, integer: i);
    /// <summary>An integer index; negative values count from the end.</summary>
    public static implicit operator TensorIndex(int i) => new(Kind.Integer, integer: i);

    /// <summary>A C# index: <c>i</c> or <c>^i</c> (from the end); throws ArgumentOutOfRangeException for ^0.</summary>
    public static implicit operator TensorIndex(Index i) =>
        !i.IsFromEnd ? new(Kind.Integer, integer: i.Value)
        : i.Value > 0 ? new(Kind.Integer, integer: -i.Value)
        : throw new ArgumentOutOfRangeException(nameof(i), "^0 is past the last element; ^1 is the last");

    /// <summary>A C# range <c>a..b</c> as the slice a:b with step 1; open ends are the whole extent.</summary>
    public static implicit operator TensorIndex(Range r) => new(Kind.Slice,
        start: r.Start.IsFromEnd ? (r.Start.Value == 0 ? long.MaxValue : -r.Start.Value) : r.Start.Value,
        stop: r.End.IsFromEnd ? (r.End.Value == 0 ? null : -r.End.Value) : r.End.Value);

    /// <summary>An int64 index tensor (rows picked) or a bool mask (entries selected).</summary>
    public static implicit operator TensorIndex(Tensor t) => new(Kind.Tensor, tensor: t);

    /// <summary>How many dimensions of the indexed tensor this index consumes.</summary>
    internal int Consumes => kind switch
    {
        Kind.Integer or Kind.Slice => 1,
        Kind.Tensor => tensor!.dtype == ScalarType.Bool ? Math.Max(1, tensor.dim) : 1,
        _ => 0,
    };
}

public sealed partial class Tensor
{
    /// <summary>PyTorch indexing: <c>x[0, 1]</c>, <c>x[1.., ^1]</c>, <c>x[TensorIndex.NewAxis, .., 0]</c>,
    /// <c>x[mask]</c>. Integers, ranges, new axes and ellipses give views that share this tensor's data;
    /// tensor indices gather copies. Assignment writes into this tensor (broadcasting the value).</summary>
    public Tensor this[params TensorIndex[] indices]
    {
        get => Index(indices);
        set => IndexPut(indices, value);
    }

    private Tensor Index(TensorIndex[] indices)
    {
        using var scope = torch.NewDisposeScope();
        var (view, advanced) = BasicIndex(indices);
        var result = advanced is null ? view : Op(OpId.index, [view, .. advanced]);
        // A plain view of this tensor is returned as a new handle (scope-owned like any result).
        return (ReferenceEquals(result, this) ? alias() : result).MoveToOuterScope();
    }

    private void IndexPut(TensorIndex[] indices, Tensor value)
    {
        using var scope = torch.NewDisposeScope();
        var (view, advanced) = BasicIndex(indices);
        if (advanced is null) view.copy_(value);
        else Op(OpId.index_put_, [view, value, .. advanced], [0]);
    }

    /// <summary>Applies integers, slices, new axes and the ellipsis as views (in a dispose scope the
    /// caller opens); returns the view and, when tensor indices occur, the per-dimension index list of
    /// the view for libtorch's advanced indexing (null entries are whole dimensions).</summary>
    private (Tensor view, Tensor?[]? advanced) BasicIndex(TensorIndex[] indices)
    {
        int ellipses = indices.Count(i => i.kind == TensorIndex.Kind.Ellipsis);
        if (ellipses > 1) throw new ArgumentException("an index can have only one ellipsis");
        int consumed = indices.Sum(i => i.Consumes);
        int rank = dim;
        if (consumed > rank)
            throw new ArgumentException($"too many indices for a tensor of dimension {rank}: [{string.Join(", ", shape)}] indexed by {consumed}");
        var view = this;
        var advanced = new List<Tensor?>();
        bool anyTensor = false;
        int d = 0;  // current dimension of the view
        foreach (var index in indices)
        {
            switch (index.kind)
            {
                case TensorIndex.Kind.Integer:
                    view = view.select(d, index.integer);
                    break;
                case TensorIndex.Kind.Slice:
                    view = view.slice(d, index.start ?? 0, index.stop ?? long.MaxValue, index.step);
                    advanced.Add(null);
                    d++;
                    break;
                case TensorIndex.Kind.NewAxis:
                    view = view.unsqueeze(d);
                    advanced.Add(null);
                    d++;
                    break;
                case TensorIndex.Kind.Ellipsis:
                    for (int k = 0; k < rank - consumed; k++) advanced.Add(null);
                    d += rank - consumed;
                    break;
                case TensorIndex.Kind.Tensor:
                    anyTensor = true;
                    advanced.Add(index.tensor);
                    d += index.Consumes;
                    break;
            }
        }
        return (view, anyTensor ? advanced.ToArray() : null);
    }
}
