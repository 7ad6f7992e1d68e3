module Research.FSharp.Tests.ProofClaims
