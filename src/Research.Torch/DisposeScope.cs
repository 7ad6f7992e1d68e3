namespace Research.Torch;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost open scope and disposes
/// them when it is disposed, so a loop body allocates thousands of temporaries and still keeps a
/// flat resident memory:
/// <code>
/// using (var scope = torch.NewDisposeScope()) { var loss = ...; total = loss.MoveToOuterScope(); }
/// </code>
/// Tensors created outside any scope are released by their finalizer (or an explicit Dispose).
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly DisposeScope? outer;
    private readonly List<Tensor> owned = new();
    private bool disposed;

    internal DisposeScope()
    {
        outer = current;
        current = this;
    }

    internal static DisposeScope? Current => current;

    /// <summary>Number of tensors this scope will dispose.</summary>
    public int Count => owned.Count(t => t.Scope == this);

    internal void Add(Tensor t) => owned.Add(t);

    /// <summary>Hands the tensors to the enclosing scope (or to no scope, when this is the outermost).</summary>
    public void MoveToOuter(params Tensor[] tensors)
    {
        foreach (var t in tensors) t.MoveToOuterScope();
    }

    internal void Transfer(Tensor t)
    {
        t.Scope = outer;
        outer?.Add(t);
    }

    /// <summary>
    /// Disposes every tensor this scope still owns; throws InvalidOperationException unless it is the innermost open
    /// scope.
    /// </summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (current != this)
            throw new InvalidOperationException("dispose scopes must be disposed in the reverse order of creation");
        current = outer;
        foreach (var t in owned)
            if (t.Scope == this) t.Dispose();
        owned.Clear();
    }
}
