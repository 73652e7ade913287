// @ts-check
// The report page's script, last in <body>: sorts tables, filters the timeline, highlights an
// address everywhere, and writes a line from the embedded JSON to show it ran. No fetch, no eval.
// src/report/html.ts inlines everything after the first blank line, lines holding only a JSDoc
// comment cut out (page-files.ts).

(function(){
var early=window.__early||[];var pe=document.getElementById('js-errors');early.forEach(function(m){pe.textContent+=m+'\n';});
var data=JSON.parse(document.getElementById('report-data').textContent);
// Sortable tables: click a header.
Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(t){
  Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.addEventListener('click',function(){
    var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.getAttribute('data-dir')!=='asc';
    Array.prototype.forEach.call(t.tHead.rows[0].cells,function(x){x.removeAttribute('data-dir');});th.setAttribute('data-dir',asc?'asc':'desc');
    rows.sort(function(x,y){var a=x.cells[i].getAttribute('data-sort')||x.cells[i].textContent,c=y.cells[i].getAttribute('data-sort')||y.cells[i].textContent;
      var na=parseFloat(a),nc=parseFloat(c);var r=(!isNaN(na)&&!isNaN(nc))?na-nc:a.localeCompare(c);return asc?r:-r;});
    rows.forEach(function(r){b.appendChild(r);});});});});
// Timeline filter by verdict.
function apply(){
/** @type {Record<string, boolean>} */
var on={};Array.prototype.forEach.call(document.querySelectorAll('#filters input'),function(c){on[c.value]=c.checked;});
  Array.prototype.forEach.call(document.querySelectorAll('#timeline g.row'),function(g){var v=(g.getAttribute('data-verdicts')||'NONE').split(' ');
    var show=v.some(
/** @param {string} x */
function(x){return on[x];});g.classList.toggle('dim',!show);});}
Array.prototype.forEach.call(document.querySelectorAll('#filters input'),function(c){c.addEventListener('change',apply);});
// Hovering an address highlights it everywhere.

/**
 * @param {string} ip
 * @param {boolean} on
 */
function hl(ip,on){Array.prototype.forEach.call(document.querySelectorAll('[data-ip]'),function(e){if(e.getAttribute('data-ip')===ip)e.classList.toggle('hl',on);});}
Array.prototype.forEach.call(document.querySelectorAll('[data-ip]'),function(e){var ip=e.getAttribute('data-ip');
  e.addEventListener('mouseenter',function(){hl(ip,true);});e.addEventListener('mouseleave',function(){hl(ip,false);});});
// A line written by the script from the embedded JSON: shows it was parsed and ran.
var t=data.totals,s=document.getElementById('js-summary');
s.innerHTML='';
/**
 * @param {string} txt
 * @param {number} v
 * @param {string} p
 */
function part(txt,v,p){var e=document.createElement('span');e.className='n';e.setAttribute('data-path',p);e.textContent=String(v);s.appendChild(document.createTextNode(txt));s.appendChild(e);}
part('Script check: attempts ',t.attempts,'totals.attempts');part(', failures ',t.failures.all,'totals.failures.all');part(', logins ',t.successes.all,'totals.successes.all');
part(', verdict rows ',data.verdicts.length,'verdicts.length');
document.documentElement.setAttribute('data-ready','1');
})();
