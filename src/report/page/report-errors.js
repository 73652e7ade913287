// @ts-check
// The report page's error hook, first in <head>: any script error, unhandled rejection or console.error
// is counted on <html data-errors> and written into #js-errors (or kept for the main script when
// that element is not there yet). src/report/html.ts inlines everything after the first blank
// line, lines holding only a JSDoc comment cut out (page-files.ts).

(function(){var n=0;
/** @param {string} m */
function add(m){n++;document.documentElement.setAttribute('data-errors',String(n));
var p=document.getElementById('js-errors');if(p){p.textContent+=m+'\n';}else{(window.__early=window.__early||[]).push(m);}}
window.addEventListener('error',function(e){add('error: '+(e.message||e)+(e.lineno?' (line '+e.lineno+')':''));});
window.addEventListener('unhandledrejection',function(e){add('unhandled rejection: '+e.reason);});

/** @type {Function} */
var ce=console.error;console.error=function(){add('console.error: '+Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};
document.documentElement.setAttribute('data-errors','0');})();
