console.log("bpt: CLI not built yet");
