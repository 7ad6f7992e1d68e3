global using Xunit;
global using MathNet.Numerics.LinearAlgebra;
