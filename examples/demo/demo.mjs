console.log("ws mounts demo: work in progress");
