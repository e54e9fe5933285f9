// The C2SP tlog-tiles read API and tlog-witness add-checkpoint over HTTP (Hummingbird).
import MurmurLog
