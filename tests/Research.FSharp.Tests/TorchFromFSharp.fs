module Research.FSharp.Tests.TorchFromFSharp
